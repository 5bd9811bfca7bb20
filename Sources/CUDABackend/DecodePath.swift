// DecodePath: the batch-1 decode step (one row, one logits row, one sampled token) issued through the
// fused kernels of kernels/decode.cu: 6 launches per layer (v10; 7 with GPTOSS_DECODE_V10=0) instead of
// 12, every matrix-vector product streaming its weights once with the input held in registers, RMSNorm fused into the products that
// consume it, RoPE and the KV write into the QKV product, top-k into the router, the expert combine and
// residual add into the down product, and the greedy argmax into lm_head. Launches use programmatic
// dependent launch on sm_90 (on unless GPTOSS_PDL=0) so a kernel's weight loads overlap the previous
// kernel's tail. v10 (DecodeSmallKernels, default; GPTOSS_DECODE_V10=0: v6/v7) fuses the attention split
// combine into the attention kernel and keeps the bf16 products' prologue loads ahead of the wait.
// GPTOSS_DECODE=0 switches back to the generic per-op kernels (for comparisons); GPTOSS_MF4TC=0 keeps the
// fused path but runs the expert products on CUDA cores (dec_moe_*, v6) instead of tensor cores. The tensor-
// core default is v7 (dec_moe_*_tc). The slower opt-in v8 (_tp), v9 (_tg) and v10 (_v10) expert products were
// removed (docs/perf-notes.md "Version 8" to "Version 10"; code in git history at 1dcd8c9).
// v11 (DecodeV11Switches, docs/perf-notes.md "Version 11"): down issues its weights before the PDL wait
// (dec_moe_down_tc_early, default; GPTOSS_DOWN_EARLY=0: v7's dec_moe_down_tc). The router folded into
// o_proj's last block (GPTOSS_ROUTER_FOLD) measured slower and was removed (code in git history at 6e46fd3).
// v13 (docs/perf-notes.md "Version 13"): gate_up runs 48 rows per block (one wave) and the FP4 codes are
// decoded with byte permutes (decode.cu fp4_word_h2); the shared-memory staged expert products
// (dec_moe_*_tcs) and the all-experts down (dec_moe_down_tcx) measured slower and were removed (git history
// at dda4b16). Measurement knobs: GPTOSS_DECODE_SKIP (below), GPTOSS_GRAPH_REPEAT (CUDABackend.run).
// v17: the expert products' B operand loaded by every lane and down 32 rows per block; measurement knob
// GPTOSS_DECODE_PAD (empty kernels in the chain). v18: epilogue constants before the wait; v19:
// dec_attention_d64 (GPTOSS_ATT_D64=0: the generic one) and fixed-trip loops. H200 20b 639 tok/s, 56 % of the
// floor (docs/perf-notes.md "Version 19"; the A/B switches of v17–v19 are in git history at 2339000). v16's L2
// prefetch of later kernels' weights and v17's thread-block-cluster combines measured slower / neutral and were
// removed (git history at 0fab834 and 3d2f757).
import Core
import Foundation

/// Device state the fused decode kernels keep between launches (all zero between launches).
final class DecodeScratch {
    let counters: DeviceBuffer   // [1024] u32: last-block-done tickets (router, lm_head, down row ranges)
    let best: DeviceBuffer       // [1] u64: packed (value, index) argmax
    let enabled: Bool
    /// The MXFP4 expert products on tensor cores (dec_moe_gate_up_tc / dec_moe_down_tc); GPTOSS_MF4TC=0: off.
    let mf4TensorCores: Bool

    /// The v10 / v11 switches, read from the environment on the first step and kept (an environment read
    /// costs ≈ 150 µs; eager steps without graphs encode every step).
    var smallKernels: DecodeSmallKernels?
    var v11Switches: DecodeV11Switches?
    /// GPTOSS_DECODE_SKIP (measurement only; see encodeDecodeStep).
    let skipKernels: Set<String> = Set((ProcessInfo.processInfo.environment["GPTOSS_DECODE_SKIP"] ?? "")
        .split(separator: ",").map(String.init))

    /// GPTOSS_DECODE_PAD (measurement only; see encodeDecodeStep).
    let pad: (count: Int, blocks: Int, threads: Int) = {
        let v = (ProcessInfo.processInfo.environment["GPTOSS_DECODE_PAD"] ?? "").split(separator: ",").compactMap { Int($0) }
        return v.count == 3 && v.allSatisfy({ $0 > 0 }) && v[2] <= 1024 ? (v[0], v[1], v[2]) : (0, 1, 32)
    }()
    /// Rows per block of each product (chosen so grids divide the shapes and fill the GPU).
    private(set) var qkvPairs: Int, oRows: Int, routerRows: Int, gateUpRows: Int, downRows: Int, logitRows: Int

    init(device: CUDADevice, config c: ModelConfig) throws {
        counters = try device.alloc(4 * 1024, what: "decode counters")
        best = try device.alloc(8, what: "decode argmax")
        try device.memset32(counters.pointer, 0, count: 1024)
        try device.memset32(best.pointer, 0, count: 2)
        try device.synchronize()
        func largestDivisor(of n: Int, from options: [Int]) -> Int { options.first { n % $0 == 0 } ?? 1 }
        let half = c.headDim / 2
        qkvPairs = largestDivisor(of: half, from: [4, 2, 1])
        oRows = 8
        routerRows = 8
        // 48 rows: 480 gate_up blocks for 20b / 120b, one wave on 132 SMs × 4 (32 rows: 720 blocks, 1.36 waves;
        // H200 574-577 vs 567-571 tok/s, docs/perf-notes.md "Version 13").
        gateUpRows = largestDivisor(of: 2 * c.intermediateSize, from: [48, 32, 16, 8, 4, 2])
        // 32 rows: 360 down blocks, one wave (16 rows: 720 blocks, 1.36 waves; with v17's branch-free B loads
        // H100 512.2–513.7 vs 501.2–503.6 tok/s, docs/perf-notes.md "Version 17").
        downRows = largestDivisor(of: c.hiddenSize, from: [32, 16, 8, 4, 2, 1])
        logitRows = 32
        // GPTOSS_DECODE_ROWS=qkvPairs,oRows,routerRows,gateUpRows,downRows,logitRows overrides the
        // choices above (for tuning runs); values that do not divide the shapes are ignored.
        if let spec = ProcessInfo.processInfo.environment["GPTOSS_DECODE_ROWS"] {
            let v = spec.split(separator: ",").compactMap { Int($0) }
            if v.count == 6 && v.allSatisfy({ $0 > 0 && $0 <= 64 }) && half % v[0] == 0 && v[0] <= 32
                && (2 * c.intermediateSize) % v[3] == 0 && v[3] % 2 == 0 && c.hiddenSize % v[4] == 0 {
                qkvPairs = v[0]; oRows = v[1]; routerRows = v[2]; gateUpRows = v[3]; downRows = v[4]; logitRows = v[5]
            }
        }
        let shapesFit = c.hiddenSize % 32 == 0 && c.intermediateSize % 32 == 0 && c.qDim % 32 == 0
            && c.hiddenSize <= 3072 && c.intermediateSize <= 3072 && c.qDim <= 4096   // MXFP4 blocks ≤ 192 threads
            && c.numLocalExperts <= 256 && c.numExpertsPerTok <= 8 && c.headDim % 2 == 0
            && c.hiddenSize / downRows <= 1024
        enabled = shapesFit && ProcessInfo.processInfo.environment["GPTOSS_DECODE"] != "0"
        mf4TensorCores = ProcessInfo.processInfo.environment["GPTOSS_MF4TC"] != "0"
    }
}

extension CUDABackend {
    /// Threads per block for an x-stationary product over K inputs (one thread per 32 inputs).
    private func xsBlock(_ k: Int) -> Int { 32 * ((k / 32 + 31) / 32) }
    /// Threads per block for an MXFP4 product (one thread per 16 inputs: half a scale block).
    private func mf4Block(_ k: Int) -> Int { 32 * ((k / 16 + 31) / 32) }

    /// One decode step for a single row (metadata already on the device): token in meta[0], position
    /// in meta[tMax], slot in meta[2·tMax]; writes logits row 0 and tokensOut[0].
    func encodeDecodeStep() throws {
        let c = config, dev = device, ds = decodeScratch
        let tokens = meta.pointer, pos = meta.pointer + CUdeviceptr(4 * tMax), slot = meta.pointer + CUdeviceptr(8 * tMax)
        let eps = Float(c.rmsNormEps)
        let G = nH / nKV
        let nsplit = max(1, min(maxSplit, (2 * dev.multiprocessors) / nKV))
        let attSmem = 4 * (G * d + 32 * (d + 1) + 32 * d)
        let layerKV = maxSlots * maxContext * kvDim * 4
        let counters = ds.counters.pointer
        let routerCounter = counters, logitCounter = counters + 4, downCounters = counters + 64
        // v10 (DecodeSmallKernels below): dec_attention's per-KV-head tickets are counters[2 ..< 2 + nKV].
        let v10 = ds.smallKernels ?? DecodeSmallKernels.current(nH: nH, nKV: nKV, headDim: d, splitCapacity: splitRows * maxSplit)
        ds.smallKernels = v10
        let attnCounters = counters + 8
        let routerRows = v10.routerRows ?? ds.routerRows
        let v11 = ds.v11Switches ?? DecodeV11Switches.current()
        ds.v11Switches = v11
        // GPTOSS_DECODE_SKIP=qkv,attention,o,router,gate_up,down (measurement only: results are wrong):
        // leaves those launches out, so a timing shows each kernel's marginal cost in the PDL chain.
        let skip = ds.skipKernels

        try dev.launch("f32_bf16w_embedding", grid: (1, 1, 1), block: 256, [.ptr(tokens), .ptr(weights.embedding), .ptr(h.pointer), .int(H)])
        for (l, lw) in weights.layers.enumerated() {
            let kc = kCache.at(l * layerKV), vc = vCache.at(l * layerKV)
            let jr = ds.qkvPairs
            if !skip.contains("qkv") { try dev.launch(v10.name("dec_qkv_rope"), grid: ((nH + 2 * nKV) * (d / 2 / jr), 1, 1), block: xsBlock(H), programmatic: true,
                           [.ptr(h.pointer), .ptr(lw.inputNorm), .f32(eps), .ptr(lw.qkv), .ptr(lw.qkvBias), .ptr(qkv.pointer),
                            .ptr(invFreq.pointer), .f32(rope.attentionFactor), .ptr(kc), .ptr(vc), .ptr(pos), .ptr(slot),
                            .int(maxContext), .int(H), .int(nH), .int(nKV), .int(d), .int(jr)]) }
            let window = c.isSliding(layer: l) ? c.slidingWindow : 0
            if skip.contains("attention") {
            } else if v10.fusedAttention {
                try dev.launch(v10.attentionD64 && d == 64 ? "dec_attention_d64" : "dec_attention", grid: (nKV, 1, v10.attentionSplits), block: G * 32, sharedBytes: attSmem, programmatic: true,
                               [.ptr(qkv.pointer), .ptr(kc), .ptr(vc), .ptr(lw.sinks), .ptr(pos), .ptr(slot),
                                .ptr(attn.pointer), .ptr(part.pointer), .ptr(attnCounters), .int(nH), .int(nKV), .int(d),
                                .int(maxContext), .int(window), .f32(c.attentionScale), .int(v10.attentionSplits),
                                .int(v10.attentionMinKeys)])
            } else {
                try dev.launch("f32_attention_sinks", grid: (nKV, 1, nsplit), block: G * 32, sharedBytes: attSmem,
                               [.ptr(qkv.pointer), .int(qkvw), .ptr(kc), .ptr(vc), .ptr(lw.sinks), .ptr(pos), .ptr(slot),
                                .ptr(attn.pointer), .ptr(part.pointer), .int(nH), .int(nKV), .int(d), .int(maxContext),
                                .int(window), .f32(c.attentionScale), .int(nsplit)])
                if nsplit > 1 {
                    try dev.launch("f32_attention_combine", grid: (nH, 1, 1), block: 32,
                                   [.ptr(part.pointer), .ptr(attn.pointer), .int(nH), .int(d), .int(nsplit)])
                }
            }
            if !skip.contains("o") { try dev.launch(v10.name("dec_gemv_bf16"), grid: ((H + ds.oRows - 1) / ds.oRows, 1, 1), block: xsBlock(qDim), programmatic: true,
                           [.ptr(attn.pointer), .ptr(0), .f32(0), .ptr(lw.o), .ptr(lw.oBias), .ptr(h.pointer),
                            .int(qDim), .int(H), .int(ds.oRows), .i32(1)]) }
            // GPTOSS_DECODE_PAD=n,blocks,threads (measurement only): n empty PDL kernels after o_proj.
            for _ in 0..<ds.pad.count {
                try dev.launch("dec_empty", grid: (ds.pad.blocks, 1, 1), block: ds.pad.threads, programmatic: true, [])
            }
            if !skip.contains("router") { try dev.launch(v10.name("dec_router_topk"), grid: ((E + routerRows - 1) / routerRows, 1, 1), block: xsBlock(H), programmatic: true,
                           [.ptr(h.pointer), .ptr(lw.postNorm), .f32(eps), .ptr(lw.router), .ptr(lw.routerBias), .ptr(rlogits.pointer),
                            .int(H), .int(E), .int(K), .int(routerRows), .ptr(routerCounter), .ptr(topkIdx.pointer), .ptr(topkW.pointer)]) }
            let gateUp = ds.mf4TensorCores ? "dec_moe_gate_up_tc" : "dec_moe_gate_up"
            if !skip.contains("gate_up") { try dev.launch(gateUp, grid: (2 * I / ds.gateUpRows, K, 1), block: mf4Block(H), programmatic: true,
                           [.ptr(h.pointer), .ptr(lw.postNorm), .f32(eps), .ptr(lw.gateUpBlocks), .ptr(lw.gateUpScales),
                            .ptr(lw.gateUpBias), .ptr(topkIdx.pointer), .ptr(act.pointer), .int(H), .int(I), .int(ds.gateUpRows),
                            .f32(Float(c.swigluLimit)), .f32(Float(c.swigluAlpha))]) }
            let down = !ds.mf4TensorCores ? "dec_moe_down" : v11.downEarly ? "dec_moe_down_tc_early" : "dec_moe_down_tc"
            if !skip.contains("down") { try dev.launch(down, grid: (H / ds.downRows, K, 1), block: mf4Block(I), programmatic: true,
                           [.ptr(act.pointer), .ptr(lw.downBlocks), .ptr(lw.downScales), .ptr(lw.downBias), .ptr(topkIdx.pointer),
                            .ptr(topkW.pointer), .ptr(ye.pointer), .ptr(h.pointer), .ptr(downCounters), .int(H), .int(I),
                            .int(K), .int(ds.downRows)]) }
        }
        try dev.launch(v10.name("dec_logits_argmax"), grid: ((V + ds.logitRows - 1) / ds.logitRows, 1, 1), block: xsBlock(H), programmatic: true,
                       [.ptr(h.pointer), .ptr(weights.finalNorm), .f32(eps), .ptr(weights.lmHead), .ptr(logits.pointer),
                        .int(H), .int(V), .int(ds.logitRows), .ptr(ds.best.pointer), .ptr(logitCounter), .ptr(tokensOut.pointer)])
    }
}

/// Decode v10, "small kernels" (docs/perf-notes.md "Version 10b"): everything in the per-layer step but the
/// MXFP4 expert products. On by default; GPTOSS_DECODE_V10=0 runs v6's kernels in the same binary (A/B), and
/// GPTOSS_V10_BF16=0 / GPTOSS_V10_ATT=0 switch off one part each.
///  - dec_qkv_rope_v10 / dec_gemv_bf16_v10 / dec_router_topk_v10 / dec_logits_argmax_v10: the bf16 products
///    issue both register buffers' weight groups and the norm weights before griddepcontrol.wait, and a
///    branch on the loaded words keeps ptxas from hoisting the wait above them (it did in every v6 kernel),
///    so with PDL the loads land while the previous kernel drains; bit-identical results.
///  - dec_attention: attention with the split-KV combine fused (last split block per KV head merges), the
///    split count chosen on the device from the context (ceil(keys / GPTOSS_ATT_MINKEYS), default 16: 545.8
///    tok/s vs 532.9 / 539.2 with 32 on the H200; at most GPTOSS_ATT_SPLITS, default and limit 64): one
///    launch per layer instead of two.
///  - the router runs 4 experts per block (8 blocks for 32 experts) unless GPTOSS_DECODE_ROWS is set.
struct DecodeSmallKernels {
    let fusedAttention: Bool
    /// Blocks per KV head launched for attention (the kernel uses ceil(keys / attentionMinKeys) of them).
    let attentionSplits: Int
    let attentionMinKeys: Int
    /// Router experts per block; nil: DecodeScratch's choice.
    let routerRows: Int?

    /// The v10 bf16 products (GPTOSS_V10_BF16=0: v6's, for A/B of the parts).
    let bf16Products: Bool
    /// v19: dec_attention_d64 (head_dim fixed at 64 at compile time) where head_dim is 64; GPTOSS_ATT_D64=0: off.
    let attentionD64: Bool

    func name(_ kernel: String) -> String { bf16Products ? kernel + "_v10" : kernel }

    /// The switches for a model's attention shape (nH query heads over nKV KV heads of headDim) and a
    /// partials buffer of splitCapacity splits per head, read from `env`.
    static func current(nH: Int, nKV: Int, headDim: Int, splitCapacity: Int,
                        env: [String: String] = ProcessInfo.processInfo.environment) -> DecodeSmallKernels {
        let on = env["GPTOSS_DECODE_V10"] != "0"
        let minKeys = env["GPTOSS_ATT_MINKEYS"].flatMap { Int($0) }.map { max(1, $0) } ?? 16
        let splits = env["GPTOSS_ATT_SPLITS"].flatMap { Int($0) }.map { max(1, $0) } ?? 64
        // The kernel's limits: 14 tickets in counters[2 ..< 16], head_dim ≤ 128 in 4-float loads, ≤ 256 threads, ≤ 64 splits.
        let attentionFits = nKV <= 14 && headDim % 4 == 0 && headDim <= 128 && nH / nKV <= 8
        let bf16 = on && env["GPTOSS_V10_BF16"] != "0"
        return DecodeSmallKernels(fusedAttention: on && attentionFits && env["GPTOSS_V10_ATT"] != "0",
                                  attentionSplits: min(splits, 64, splitCapacity), attentionMinKeys: minKeys,
                                  routerRows: bf16 && env["GPTOSS_DECODE_ROWS"] == nil ? 4 : nil, bf16Products: bf16,
                                  attentionD64: env["GPTOSS_ATT_D64"] != "0")
    }
}

/// Decode v11 switches (docs/perf-notes.md "Version 11"), read from `env` so one binary A/B's them:
///  - downEarly (GPTOSS_DOWN_EARLY=1/0): dec_moe_down_tc_early issues its first 16-row group's weights and
///    bias before griddepcontrol.wait (pdl_wait_after keeps the wait below them); bit-identical rows.
/// (The router fold, GPTOSS_ROUTER_FOLD, measured slower and was removed; code in git history at 6e46fd3.)
struct DecodeV11Switches {
    let downEarly: Bool

    static let downEarlyDefault = true   // H100: 487.6 / 488.4 vs 476.9 / 478.2 tok/s (20b), 347.9 vs 339.8 / 340.8 (120b)

    static func current(env: [String: String] = ProcessInfo.processInfo.environment) -> DecodeV11Switches {
        let early = env["GPTOSS_DOWN_EARLY"].map { $0 == "1" } ?? downEarlyDefault
        return DecodeV11Switches(downEarly: early)
    }
}
