// CUDABackendTests: what can be checked without a GPU (error messages, library search, embedded
// sources, the roofline numbers) and, where a driver and GPU are present, the backend against the
// tiny fixture models' Hugging Face fp32 references (skipped cleanly otherwise).
import Core
import Foundation
import XCTest
@testable import CUDABackend

final class CUDABackendTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/models")

    /// A device, or XCTSkip when this machine has no usable driver / GPU.
    func deviceOrSkip() throws -> CUDADevice {
        do { return try CUDADevice() } catch let e as CUDAError {
            switch e {
            case .libraryNotFound, .noDevice: throw XCTSkip("no CUDA driver or GPU here: \(e)")
            case .driver(let call, _, let name, _) where call == "cuInit" || name == "CUDA_ERROR_NO_DEVICE":
                throw XCTSkip("CUDA driver present but unusable: \(e)")
            default: throw e
            }
        }
    }

    func testDriverErrorNamesCallAndResult() {
        let e = CUDAError.driver(call: "cuMemAlloc_v2(1024 bytes for K cache)", code: 2, name: "CUDA_ERROR_OUT_OF_MEMORY",
                                 message: "out of memory")
        XCTAssertEqual(e.description, "cuda: cuMemAlloc_v2(1024 bytes for K cache) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory")
        let c = CUDAError.compile(source: "moe.cu", arch: "sm_90", log: "moe.cu(3): error: identifier \"x\" is undefined")
        XCTAssertEqual(c.description, "nvrtc: compiling moe.cu for sm_90 failed:\nmoe.cu(3): error: identifier \"x\" is undefined")
        let m = CUDAError.outOfMemory(device: "NVIDIA H100", neededBytes: 14_000_000_000, freeBytes: 8_000_000_000, what: "the model")
        XCTAssertEqual(m.description, "cuda: the model needs 14.00 GB of device memory but NVIDIA H100 has 8.00 GB free")
    }

    func testMissingDriverIsAClearError() throws {
        if dlopen("libcuda.so.1", RTLD_NOW) != nil { throw XCTSkip("a CUDA driver is installed here") }
        XCTAssertThrowsError(try CUDADevice()) { error in
            guard case let CUDAError.libraryNotFound(library, tried, hint) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(library.contains("libcuda.so.1"))
            XCTAssertEqual(tried.first, "libcuda.so.1")
            XCTAssertTrue(hint.contains("--device cpu"))
        }
    }

    func testNVRTCSearchOrder() {
        let c = NVRTC.candidates(environment: ["GPTOSS_NVRTC_PATH": "/opt/nv/lib", "CUDA_HOME": "/cuda"])
        XCTAssertEqual(Array(c.prefix(4)), ["/opt/nv/lib/libnvrtc.so.13", "/opt/nv/lib/libnvrtc.so.12", "/opt/nv/lib/libnvrtc.so", "libnvrtc.so.13"])
        XCTAssertTrue(c.contains("/cuda/lib64/libnvrtc.so.13"))
        XCTAssertLessThan(c.firstIndex(of: "/cuda/lib64/libnvrtc.so.13")!, c.firstIndex(of: "/usr/local/cuda/lib64/libnvrtc.so.13")!)
        let f = NVRTC.candidates(environment: ["GPTOSS_NVRTC_PATH": "/x/libnvrtc.so.13"])
        XCTAssertEqual(f.first, "/x/libnvrtc.so.13")
    }

    func testEveryLaunchedKernelIsInTheEmbeddedSources() {
        let text = KernelSources.all.map(\.text).joined()
        XCTAssertGreaterThanOrEqual(KernelSources.all.count, 7)
        for s in KernelSources.all {
            XCTAssertTrue(s.text.contains("#include \"gptoss_common.h\"") || s.text.contains("#include \"tensor_core.h\""), s.name)
        }
        for k in ["f32_bf16w_embedding", "f32_bf16w_rmsnorm", "f32_bf16w_matmul_bias_t1", "f32_bf16w_matmul_bias_t4",
                  "f32_bf16w_matmul_bias_t8", "f32_rope_kv_write", "f32_attention_sinks", "f32_attention_combine",
                  "f32_moe_route", "f32_mf4w_moe_gate_up_swiglu_t1", "f32_mf4w_moe_gate_up_swiglu_t8",
                  "f32_mf4w_moe_down_t1", "f32_mf4w_moe_down_t8", "f32_moe_combine", "f32_argmax_partial", "f32_argmax_final"] {
            XCTAssertTrue(text.contains("GPTOSS_KERNEL void \(k)("), k)
        }
        XCTAssertFalse(text.contains("#include <"), "kernels must not include CUDA or system headers")
    }

    /// Every embedded kernel source and header is byte for byte the file in Sources/CUDABackend/kernels, and
    /// every file there is embedded (a new kernel file needs its line in embed.c and KernelSources).
    func testEmbeddedKernelsEqualTheFilesOnDisk() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/CUDABackend/kernels")
        let embedded = KernelSources.all + KernelSources.headers
        for s in embedded {
            let onDisk = try String(contentsOf: dir.appendingPathComponent(s.name), encoding: .utf8)
            XCTAssertEqual(s.text.utf8.count, onDisk.utf8.count, s.name)
            XCTAssertTrue(s.text == onDisk, "\(s.name): the embedded text differs from the file")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".cu") || $0.hasSuffix(".h") }
        XCTAssertEqual(Set(files), Set(embedded.map(\.name)))
    }

    func testDecodeKernelsAreEmbedded() {
        let decode = KernelSources.all.first { $0.name == "decode.cu" }
        XCTAssertNotNil(decode)
        for k in ["dec_qkv_rope", "dec_gemv_bf16", "dec_router_topk", "dec_moe_gate_up", "dec_moe_down", "dec_moe_gate_up_tc", "dec_moe_down_tc", "dec_logits_argmax"] {
            let t = decode?.text ?? ""
            XCTAssertTrue(t.contains("GPTOSS_KERNEL void \(k)(") || t.contains("GPTOSS_KERNEL void DEC_BF16_BOUNDS \(k)(")
                          || t.contains("GPTOSS_KERNEL void DEC_MF4_BOUNDS \(k)("), k)
        }
        // The slower v8–v10 expert products were removed (history: 1dcd8c9).
        for k in ["dec_moe_down_tp", "dec_moe_down_tg", "dec_moe_down_v10"] {
            XCTAssertFalse((decode?.text ?? "").contains(" \(k)("), k)
        }
    }

    func testTensorCoreKernelsAreEmbedded() {
        let text = KernelSources.all.map(\.text).joined()
        XCTAssertTrue(KernelSources.headers.contains { $0.name == "tensor_core.h" })
        for k in ["f32_to_bf16", "bf16_gemm_tc", "bf16_mf4w_moe_gate_up_swiglu_tc", "bf16_mf4w_moe_down_tc",
                  "f32_moe_topk_many", "f32_moe_group_many", "bf16_attention_sinks_tc",
                  "f32_to_f16_perm8", "f16_mf4w_moe_gate_up_swiglu_tcr", "f32_to_f16hl_perm8",
                  "f16hl_mf4w_moe_gate_up_swiglu_tcr", "f16hl_mf4w_moe_down_tcr", "f32_to_bf16x3",
                  "f16_mf4w_moe_down_tcr", "bf16_gemm_tcs",
                  "bf16_gemm_tcs_reduce"] {
            XCTAssertTrue(text.contains("GPTOSS_KERNEL void \(k)(") || text.contains("GPTOSS_KERNEL void __launch_bounds__(256) \(k)("), k)
        }
    }

    /// Decode batches take the small expert tiles (32 assignments) up to the row limit, prefill-sized steps and
    /// shapes whose hidden or intermediate size is not a multiple of 32 (a scale block) the 128 tiles.
    func testExpertTileChoice() {
        XCTAssertEqual(CUDABackend.tcsTileRows, 32)
        XCTAssertEqual(CUDABackend.moeTileRows(rows: 64, hidden: 2880, intermediate: 2880, maxSmallRows: 256), 32)
        XCTAssertEqual(CUDABackend.moeTileRows(rows: 256, hidden: 2880, intermediate: 2880, maxSmallRows: 256), 32)
        XCTAssertEqual(CUDABackend.moeTileRows(rows: 257, hidden: 2880, intermediate: 2880, maxSmallRows: 256), 128)
        XCTAssertEqual(CUDABackend.moeTileRows(rows: 64, hidden: 128, intermediate: 96, maxSmallRows: 256), 32)
        XCTAssertEqual(CUDABackend.moeTileRows(rows: 64, hidden: 128, intermediate: 80, maxSmallRows: 256), 128)
        XCTAssertEqual(CUDABackend.moeTileRows(rows: 64, hidden: 2880, intermediate: 2880, maxSmallRows: 0), 128)
    }

    /// The host's shared-memory sizes and split workspace for the small-tile kernels follow tc_gemm.cu's defines.
    /// Exact-path steps of 4 ... 128 rows (below the tensor-core threshold, or all with GPTOSS_TC_EXACT=1) take
    /// the f16 high/low experts when the shapes fit.
    func testSmallBatchExpertChoice() {
        XCTAssertFalse(CUDABackend.hlExperts(rows: 1, hidden: 2880, intermediate: 2880, enabled: true))
        XCTAssertFalse(CUDABackend.hlExperts(rows: 3, hidden: 2880, intermediate: 2880, enabled: true))
        XCTAssertTrue(CUDABackend.hlExperts(rows: 4, hidden: 2880, intermediate: 2880, enabled: true))
        XCTAssertTrue(CUDABackend.hlExperts(rows: 32, hidden: 2880, intermediate: 2880, enabled: true))
        XCTAssertTrue(CUDABackend.hlExperts(rows: 128, hidden: 2880, intermediate: 2880, enabled: true))
        XCTAssertFalse(CUDABackend.hlExperts(rows: 129, hidden: 2880, intermediate: 2880, enabled: true))
        XCTAssertFalse(CUDABackend.hlExperts(rows: 8, hidden: 2880, intermediate: 80, enabled: true))
        XCTAssertFalse(CUDABackend.hlExperts(rows: 8, hidden: 2880, intermediate: 2880, enabled: false))
        XCTAssertEqual(CUDABackend.hlTileRows * 2, 32, "two staged rows per assignment fill the kernels' 32-row tile")
        // Their dense products: QKV and o_proj on three bf16 terms; not the router (32 outputs) nor lm_head (its
        // partials would not fit the split workspace), not below 4 rows.
        XCTAssertTrue(CUDABackend.hlDense(rows: 8, k: 2880, n: 5120, enabled: true))
        XCTAssertTrue(CUDABackend.hlDense(rows: 32, k: 4096, n: 2880, enabled: true))
        XCTAssertFalse(CUDABackend.hlDense(rows: 8, k: 2880, n: 32, enabled: true))
        XCTAssertFalse(CUDABackend.hlDense(rows: 8, k: 2880, n: 201_088, enabled: true))
        XCTAssertFalse(CUDABackend.hlDense(rows: 3, k: 2880, n: 5120, enabled: true))
        XCTAssertFalse(CUDABackend.hlDense(rows: 8, k: 2880, n: 5120, enabled: false))
    }

    func testSmallTileConstantsMatchTheKernel() throws {
        let src = try XCTUnwrap(KernelSources.all.first { $0.name == "tc_gemm.cu" }).text
        for (name, value) in [("TCS_NS", CUDABackend.tcsStages), ("TCS_BM", 32), ("TCS_BK", 64), ("TCS_LDS", 72)] {
            XCTAssertTrue(src.contains("#define \(name) \(value) ") || src.contains("#define \(name) \(value)\n"), name)
        }
        XCTAssertEqual(CUDABackend.tcsDenseSmem, 4 * (32 + 128) * 72 * 2)
        // Splits: QKV at 64 rows on 132 SMs → 40 × 2 blocks → 4 splits; lm_head stays whole; S·M·N fits the workspace.
        XCTAssertEqual(CUDABackend.denseSplits(rows: 64, n: 5120, k: 2880, multiprocessors: 132), 4)
        XCTAssertEqual(CUDABackend.denseSplits(rows: 64, n: 201_088, k: 2880, multiprocessors: 132), 1)
        for (m, n) in [(1, 2880), (32, 5120), (128, 5120), (64, 2880)] {
            let s = CUDABackend.denseSplits(rows: m, n: n, k: 2880, multiprocessors: 132)
            XCTAssertLessThanOrEqual(s * m * n, CUDABackend.tcsSplitFloats)
            XCTAssertTrue((1...8).contains(s))
        }
    }

    func testQueryTilesSplitRunsOfOneSequence() {
        // Slot 0 positions 5..<40 (35 rows), then two decode rows of slots 1 and 2, then slot 3 positions 0..<3.
        var rows: [(slot: Int, pos: Int)] = (5..<40).map { (0, $0) }
        rows += [(1, 17), (2, 9)] + (0..<3).map { (3, $0) }
        let t = CUDABackend.queryTiles(rows)
        XCTAssertEqual(t.map { $0.first }, [0, 16, 32, 35, 36, 37])
        XCTAssertEqual(t.map { $0.count }, [16, 16, 3, 1, 1, 3])
        // A gap in positions starts a new tile even within one slot.
        let g = CUDABackend.queryTiles([(0, 0), (0, 1), (0, 5), (0, 6)])
        XCTAssertEqual(g.map { $0.count }, [2, 2])
    }

    func testDecodeV10KernelsAreEmbedded() {
        let t = KernelSources.all.first { $0.name == "decode.cu" }?.text ?? ""
        XCTAssertTrue(t.contains("GPTOSS_KERNEL void __launch_bounds__(256, 4) dec_attention("))
        for k in ["dec_qkv_rope_v10", "dec_gemv_bf16_v10", "dec_router_topk_v10", "dec_logits_argmax_v10"] {
            XCTAssertTrue(t.contains("GPTOSS_KERNEL void DEC_BF16_V10_BOUNDS \(k)("), k)
        }
    }

    func testDecodeV10SwitchesAndLimits() {
        // gpt-oss-20b / 120b attention: 64 query heads over 8 KV heads of 64; partials for 32 · 16 splits.
        let on = DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 512, env: [:])
        XCTAssertTrue(on.fusedAttention && on.bf16Products)
        XCTAssertEqual(on.attentionSplits, 64)
        XCTAssertEqual(on.attentionMinKeys, 16)
        XCTAssertEqual(on.routerRows, 4)
        XCTAssertEqual(on.name("dec_qkv_rope"), "dec_qkv_rope_v10")

        let off = DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 512, env: ["GPTOSS_DECODE_V10": "0"])
        XCTAssertFalse(off.fusedAttention || off.bf16Products)
        XCTAssertNil(off.routerRows)
        XCTAssertEqual(off.name("dec_qkv_rope"), "dec_qkv_rope")

        let attOnly = DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 512, env: ["GPTOSS_V10_BF16": "0"])
        XCTAssertTrue(attOnly.fusedAttention)
        XCTAssertEqual(attOnly.name("dec_gemv_bf16"), "dec_gemv_bf16")
        XCTAssertNil(attOnly.routerRows)
        let bf16Only = DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 512, env: ["GPTOSS_V10_ATT": "0"])
        XCTAssertFalse(bf16Only.fusedAttention)
        XCTAssertEqual(bf16Only.routerRows, 4)

        // Explicit rows keep DecodeScratch's router rows; tuning knobs are clamped to the kernel's limits.
        XCTAssertNil(DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 512,
                                                env: ["GPTOSS_DECODE_ROWS": "4,8,8,32,16,32"]).routerRows)
        let tuned = DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 32,
                                               env: ["GPTOSS_ATT_SPLITS": "1000", "GPTOSS_ATT_MINKEYS": "0"])
        XCTAssertEqual(tuned.attentionSplits, 32)
        XCTAssertEqual(tuned.attentionMinKeys, 1)
        // Shapes dec_attention cannot take fall back to the two-kernel attention.
        XCTAssertFalse(DecodeSmallKernels.current(nH: 64, nKV: 4, headDim: 64, splitCapacity: 512, env: [:]).fusedAttention)  // 16 heads per group
        XCTAssertFalse(DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 130, splitCapacity: 512, env: [:]).fusedAttention)
        XCTAssertFalse(DecodeSmallKernels.current(nH: 64, nKV: 16, headDim: 64, splitCapacity: 512, env: [:]).fusedAttention) // 16 tickets
    }

    /// Decode v11 (DecodePath.swift DecodeV11Switches): the kernel exists and the switch reads the environment.
    func testDecodeV11SwitchesAndKernels() {
        let t = KernelSources.all.first { $0.name == "decode.cu" }?.text ?? ""
        XCTAssertTrue(t.contains("GPTOSS_KERNEL void DEC_MF4_BOUNDS dec_moe_down_tc_early("))
        // The router fold was removed (docs/perf-notes.md "Version 11").
        XCTAssertFalse(t.contains("dec_gemv_bf16_router_v10"))
        XCTAssertTrue(DecodeV11Switches.current(env: ["GPTOSS_DOWN_EARLY": "1"]).downEarly)
        XCTAssertFalse(DecodeV11Switches.current(env: ["GPTOSS_DOWN_EARLY": "0"]).downEarly)
        // Default (H100, docs/perf-notes.md "Version 11"): down early on.
        XCTAssertTrue(DecodeV11Switches.current(env: [:]).downEarly)
    }

    /// Decode v19: the head_dim-64 attention kernel is embedded with the generic one's parameters, is the
    /// default, and GPTOSS_ATT_D64=0 switches back (DecodePath launches it only where head_dim is 64).
    func testDecodeV19AttentionD64() {
        let t = KernelSources.all.first { $0.name == "decode.cu" }?.text ?? ""
        XCTAssertTrue(t.contains("GPTOSS_KERNEL void __launch_bounds__(256, 4) dec_attention_d64(DEC_ATT_PARAMS) { attention_body<64>("))
        XCTAssertTrue(t.contains("GPTOSS_KERNEL void __launch_bounds__(256, 4) dec_attention(DEC_ATT_PARAMS) { attention_body<0>("))
        XCTAssertTrue(DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 512, env: [:]).attentionD64)
        XCTAssertFalse(DecodeSmallKernels.current(nH: 64, nKV: 8, headDim: 64, splitCapacity: 512,
                                                  env: ["GPTOSS_ATT_D64": "0"]).attentionD64)
    }

    func testWeightBytesPerTokenMatchesSpec() {
        XCTAssertEqual(DecodeRoofline.weightBytesPerToken(.gptOss20b), 3_708_089_088)
        XCTAssertEqual(DecodeRoofline.weightBytesPerToken(.gptOss120b), 5_002_907_904)
    }

    /// GPU logits vs the HF fp32 references within 1e-3 (the fixtures README's bound for an fp32 engine;
    /// measured fp32 noise is ≤ 2.6e-5), greedy ids identical alone and batched.
    func testFixturesMatchReferenceOnGPU() throws {
        _ = try deviceOrSkip()
        for m in ["tiny-a", "tiny-b", "tiny-c"] {
            let dir = Self.fixtures.appendingPathComponent(m)
            var o = CUDABackendOptions()
            o.maxSlots = 4; o.maxContext = 128; o.maxTokensPerStep = 16; o.verbose = false
            let backend = try CUDABackend(weights: try ModelWeights.load(directory: dir), options: o)
            for r in try FixtureCheck.run(backend: backend, modelDir: dir) {
                XCTAssertLessThanOrEqual(r.prefillMaxAbs, 1e-3, "\(m) \(r.name)")
                XCTAssertLessThanOrEqual(r.greedyMaxAbs, 1e-3, "\(m) \(r.name)")
                XCTAssertEqual(r.tokens, r.expectedTokens, "\(m) \(r.name)")
                XCTAssertEqual(r.batchedTokens, r.expectedTokens, "\(m) \(r.name) batched")
            }
        }
    }
}
