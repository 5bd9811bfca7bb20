// TensorCoreSelfTest: each tensor-core kernel against its exact f32 counterpart on the same random
// inputs at gpt-oss-20b shapes (dense GEMM, MXFP4 experts with the same routing, attention with sinks,
// causal and sliding window), reporting max|Δ| / max|ref| and the time of each. Whole-model checks
// cannot separate kernel bugs from chaotic amplification (a router near-tie flipped by bf16 rounding
// changes a token's experts); this can. Run by `gptoss cuda-check --tensor-core-selftest`.
import Foundation

public struct TensorCoreSelfTestRow: Sendable {
    public var name: String
    public var relErr: Float      // max|tc − f32| / max|f32|
    public var f32Ms: Double
    public var tcMs: Double
    public var tflops: Double     // tensor-core kernel's useful FLOP rate
}

public enum TensorCoreSelfTest {
    static func rand(_ n: Int, _ seed: inout UInt64, scale: Float) -> [Float] {
        (0..<n).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(seed >> 40) / Float(1 << 24)
            return (u * 2 - 1) * scale
        }
    }
    static func bf16(_ x: [Float]) -> [UInt16] { x.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) } }
    static func relErr(_ a: [Float], _ b: [Float]) -> Float {
        var d: Float = 0, m: Float = 0
        for (x, y) in zip(a, b) { d = max(d, abs(x - y)); m = max(m, abs(y)) }
        return d.isNaN ? .infinity : d / max(m, 1e-30)
    }

    public static func run(device dev: CUDADevice, tokens T: Int = 512) throws -> [TensorCoreSelfTestRow] {
        try dev.loadKernels()
        var seed: UInt64 = 42
        var rows: [TensorCoreSelfTestRow] = []
        let H = 2880, I = 2880, E = 32, K = 4, nH = 64, nKV = 8, d = 64
        func buf<T>(_ a: [T]) throws -> DeviceBuffer {
            let b = try dev.alloc(MemoryLayout<T>.stride * max(a.count, 1), what: "self-test")
            try dev.upload(a, to: b.pointer)
            return b
        }
        func zeros(_ bytes: Int) throws -> DeviceBuffer {
            let b = try dev.alloc(bytes, what: "self-test")
            try dev.memset32(b.pointer, 0, count: bytes / 4)
            return b
        }
        func f32(_ b: DeviceBuffer, _ n: Int) throws -> [Float] { try dev.download(b.pointer, count: n, as: Float.self) }

        // 1. Dense: y = x·Wᵀ + b, N = 5120 (QKV), K = H.
        do {
            let N = 5120
            let x = try buf(rand(T * H, &seed, scale: 1)), w = try buf(bf16(rand(N * H, &seed, scale: 0.03)))
            let bias = try buf(bf16(rand(N, &seed, scale: 0.1)))
            let y0 = try zeros(4 * T * N), y1 = try zeros(4 * T * N), xb = try zeros(2 * T * H)
            let t0 = try dev.time {
                try dev.launch("f32_bf16w_matmul_bias_t8", grid: ((N + 15) / 16, (T + 7) / 8, 1), block: 256,
                               [.ptr(x.pointer), .ptr(w.pointer), .ptr(bias.pointer), .ptr(y0.pointer), .int(T), .int(H), .int(N), .int(N), .i32(0)])
            }
            let t1 = try dev.time {
                try dev.launch("f32_to_bf16", grid: (528, 1, 1), block: 256, [.ptr(x.pointer), .ptr(xb.pointer), .int(T * H)])
                try dev.launch("bf16_gemm_tc", grid: ((N + 127) / 128, (T + 127) / 128, 1), block: 256,
                               [.ptr(xb.pointer), .ptr(w.pointer), .ptr(bias.pointer), .ptr(y1.pointer), .int(T), .int(N), .int(H), .int(N), .i32(0)])
            }
            let r0 = try f32(y0, T * N)
            rows.append(.init(name: "dense \(T)x\(N)x\(H)", relErr: relErr(try f32(y1, T * N), r0),
                              f32Ms: t0, tcMs: t1, tflops: 2.0 * Double(T * N * H) / (t1 * 1e9)))
            // The small-M kernel (32-row tiles, K split S ways, partial sums reduced in order), accumulating onto
            // a copy of y0 (checks the accumulate path too: the result is y0 + x·Wᵀ + b ≈ 2·y0).
            if H % 64 == 0 {
                let s = CUDABackend.denseSplits(rows: T, n: N, k: H, multiprocessors: dev.multiprocessors)
                let y2 = try buf(r0), ws = try zeros(4 * CUDABackend.tcsSplitFloats)
                let t2 = try dev.time {
                    try dev.launch("f32_to_bf16", grid: (528, 1, 1), block: 256, [.ptr(x.pointer), .ptr(xb.pointer), .int(T * H)])
                    try CUDABackend.denseTcs(dev, a: xb.pointer, terms: 1, tokens: T, w: w.pointer, bias: bias.pointer, y: y2.pointer,
                                             ws: ws.pointer, n: N, k: H, accumulate: true)
                }
                rows.append(.init(name: "dense small-M \(T)x\(N)x\(H) (K split \(s))", relErr: relErr(try f32(y2, T * N), r0.map { 2 * $0 }),
                                  f32Ms: t0, tcMs: t2, tflops: 2.0 * Double(T * N * H) / (t2 * 1e9)))
                // Three bf16 terms per activation (the exact path's small batches): f32-class.
                if CUDABackend.hlDense(rows: T, k: H, n: N, enabled: true) {
                    let x3 = try zeros(2 * 3 * T * H), y3 = try zeros(4 * T * N)
                    let t3 = try dev.time {
                        try dev.launch("f32_to_bf16x3", grid: (528, 1, 1), block: 256, [.ptr(x.pointer), .ptr(x3.pointer), .int(T), .int(H)])
                        try CUDABackend.denseTcs(dev, a: x3.pointer, terms: 3, tokens: T, w: w.pointer, bias: bias.pointer, y: y3.pointer,
                                                 ws: ws.pointer, n: N, k: H, accumulate: false)
                    }
                    rows.append(.init(name: "dense small batch 3 terms \(T)x\(N)x\(H)", relErr: relErr(try f32(y3, T * N), r0),
                                      f32Ms: t0, tcMs: t3, tflops: 2.0 * Double(T * N * H) / (t3 * 1e9)))
                }
            }
        }
        // 2. MoE: same router logits through f32_moe_route (tile 8 vs 128), gate_up + down, compare ye.
        do {
            let a = try buf(rand(T * H, &seed, scale: 1))
            let ab = try zeros(2 * T * H)
            let logits = try buf(rand(T * E, &seed, scale: 3))
            func codes(_ n: Int) -> [UInt8] { (0..<n).map { _ in seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: seed >> 33) } }
            func scales(_ n: Int) -> [UInt8] { (0..<n).map { _ in seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(118 + Int((seed >> 40) % 4)) } }
            let guB = try buf(codes(E * 2 * I * H / 2)), guS = try buf(scales(E * 2 * I * H / 32)), guBias = try buf(bf16(rand(E * 2 * I, &seed, scale: 0.1)))
            let dB = try buf(codes(E * H * I / 2)), dS = try buf(scales(E * H * I / 32)), dBias = try buf(bf16(rand(E * H, &seed, scale: 0.1)))
            let maxTiles = T * K + E
            let idx = try zeros(4 * T * K), wts = try zeros(4 * T * K), sorted = try zeros(4 * T * K)
            let tiles = try zeros(4 * 3 * maxTiles), nt = try zeros(4)
            let act = try zeros(4 * T * K * I), actb = try zeros(2 * T * K * I)
            let ye0 = try zeros(4 * T * K * H), ye1 = try zeros(4 * T * K * H), ye3 = try zeros(4 * T * K * H)
            func route(_ tile: Int) throws {
                try dev.launch("f32_moe_route", grid: (1, 1, 1), block: 1024,
                               [.ptr(logits.pointer), .int(T), .int(E), .int(K), .int(tile), .ptr(idx.pointer), .ptr(wts.pointer),
                                .ptr(sorted.pointer), .ptr(tiles.pointer), .ptr(nt.pointer), .int(maxTiles)])
            }
            try route(8)
            let t0 = try dev.time {
                try dev.launch("f32_mf4w_moe_gate_up_swiglu_t8", grid: ((I + 15) / 16, maxTiles, 1), block: 256,
                               [.ptr(a.pointer), .ptr(guB.pointer), .ptr(guS.pointer), .ptr(guBias.pointer), .ptr(sorted.pointer),
                                .ptr(tiles.pointer), .ptr(nt.pointer), .ptr(act.pointer), .int(H), .int(I), .int(K), .f32(7), .f32(1.702)])
                try dev.launch("f32_mf4w_moe_down_t8", grid: ((H + 31) / 32, maxTiles, 1), block: 256,
                               [.ptr(act.pointer), .ptr(dB.pointer), .ptr(dS.pointer), .ptr(dBias.pointer), .ptr(sorted.pointer),
                                .ptr(tiles.pointer), .ptr(nt.pointer), .ptr(ye0.pointer), .int(H), .int(I)])
            }
            // The tensor-core expert pair `kind` (gate_up + SwiGLU, then down) on input x (its conversion of `a`),
            // expert activations through mid, outputs into out; grids of 128 output rows per block.
            func tcExperts(_ kind: (gateUp: String, down: String), x: DeviceBuffer, mid: DeviceBuffer, out: DeviceBuffer) throws {
                try dev.launch(kind.gateUp, grid: ((2 * I + 127) / 128, maxTiles, 1), block: 256,
                               [.ptr(x.pointer), .ptr(guB.pointer), .ptr(guS.pointer), .ptr(guBias.pointer), .ptr(sorted.pointer),
                                .ptr(tiles.pointer), .ptr(nt.pointer), .ptr(mid.pointer), .int(H), .int(I), .int(K), .f32(7), .f32(1.702)])
                try dev.launch(kind.down, grid: ((H + 127) / 128, maxTiles, 1), block: 256,
                               [.ptr(mid.pointer), .ptr(dB.pointer), .ptr(dS.pointer), .ptr(dBias.pointer), .ptr(sorted.pointer),
                                .ptr(tiles.pointer), .ptr(nt.pointer), .ptr(out.pointer), .int(H), .int(I)])
            }
            try route(128)
            let t1 = try dev.time {
                try dev.launch("f32_to_bf16", grid: (528, 1, 1), block: 256, [.ptr(a.pointer), .ptr(ab.pointer), .int(T * H)])
                try tcExperts(("bf16_mf4w_moe_gate_up_swiglu_tc", "bf16_mf4w_moe_down_tc"), x: ab, mid: actb, out: ye1)
            }
            let fl = 2.0 * Double(T * K) * Double(3 * H * I)
            let y0 = try f32(ye0, T * K * H), y1 = try f32(ye1, T * K * H)
            rows.append(.init(name: "moe gate_up+down \(T) tok", relErr: relErr(y1, y0), f32Ms: t0, tcMs: t1, tflops: fl / (t1 * 1e9)))
            // The decode-batch kernels (tiles of 32 assignments, f16 operands: activations in f32_to_f16_perm8's order).
            if H % 32 == 0 && I % 32 == 0 {
                try route(32)
                let t3 = try dev.time {
                    try dev.launch("f32_to_f16_perm8", grid: (528, 1, 1), block: 256, [.ptr(a.pointer), .ptr(ab.pointer), .int(T * H)])
                    try tcExperts(("f16_mf4w_moe_gate_up_swiglu_tcr", "f16_mf4w_moe_down_tcr"), x: ab, mid: actb, out: ye3)
                }
                let y3 = try f32(ye3, T * K * H)
                rows.append(.init(name: "moe small tiles (f16, tcr) \(T) tok", relErr: relErr(y3, y0),
                                  f32Ms: t0, tcMs: t3, tflops: fl / (t3 * 1e9)))
            }
            // Small batches below the tensor-core threshold: f16 high/low activations (f32-class).
            if CUDABackend.hlExperts(rows: T, hidden: H, intermediate: I, enabled: true) {
                try route(CUDABackend.hlTileRows)
                let xhl = try zeros(2 * 2 * T * H), ahl = try zeros(2 * 2 * T * K * I), ye4 = try zeros(4 * T * K * H)
                let t4 = try dev.time {
                    try dev.launch("f32_to_f16hl_perm8", grid: (528, 1, 1), block: 256, [.ptr(a.pointer), .ptr(xhl.pointer), .int(T), .int(H)])
                    try tcExperts(("f16hl_mf4w_moe_gate_up_swiglu_tcr", "f16hl_mf4w_moe_down_tcr"), x: xhl, mid: ahl, out: ye4)
                }
                rows.append(.init(name: "moe small batch (f16 hi/lo, tcr) \(T) tok", relErr: relErr(try f32(ye4, T * K * H), y0),
                                  f32Ms: t0, tcMs: t4, tflops: fl / (t4 * 1e9)))
            }
        }
        // 3. Attention over a KV cache of T positions (slot 0), one sequence, causal and window 128.
        for window in [0, 128] {
            let qkvw = (nH + 2 * nKV) * d, kvw = nKV * d
            let q = try buf(rand(T * qkvw, &seed, scale: 1))
            let kc = try buf(rand(T * kvw, &seed, scale: 1)), vc = try buf(rand(T * kvw, &seed, scale: 1))
            let sinks = try buf(bf16(rand(nH, &seed, scale: 1)))
            let meta = try buf((0..<Int32(T)).map { $0 } + [Int32](repeating: 0, count: T))  // pos | slot
            var tl: [Int32] = []
            for s in stride(from: 0, to: T, by: 16) { tl += [Int32(s), Int32(min(16, T - s))] }
            let qt = try buf(tl)
            let o0 = try zeros(4 * T * nH * d), o1 = try zeros(4 * T * nH * d), part = try zeros(4)
            let G = nH / nKV
            let t0 = try dev.time {
                try dev.launch("f32_attention_sinks", grid: (nKV, T, 1), block: G * 32, sharedBytes: 4 * (G * d + 32 * (d + 1) + 32 * d),
                               [.ptr(q.pointer), .int(qkvw), .ptr(kc.pointer), .ptr(vc.pointer), .ptr(sinks.pointer), .ptr(meta.pointer),
                                .ptr(meta.pointer + CUdeviceptr(4 * T)), .ptr(o0.pointer), .ptr(part.pointer), .int(nH), .int(nKV), .int(d),
                                .int(T), .int(window), .f32(0.125), .int(1)])
            }
            let t1 = try dev.time {
                try dev.launch("bf16_attention_sinks_tc", grid: (tl.count / 2, nKV, 1), block: G * 32,
                               [.ptr(q.pointer), .int(qkvw), .ptr(kc.pointer), .ptr(vc.pointer), .ptr(sinks.pointer), .ptr(meta.pointer),
                                .ptr(meta.pointer + CUdeviceptr(4 * T)), .ptr(qt.pointer), .ptr(o1.pointer), .int(nH), .int(nKV),
                                .int(T), .int(window), .f32(0.125)])
            }
            let keys = window == 0 ? Double(T) * Double(T + 1) / 2 : Double(T) * Double(min(T, window))
            rows.append(.init(name: "attention \(T) tok window \(window)", relErr: relErr(try f32(o1, T * nH * d), try f32(o0, T * nH * d)),
                              f32Ms: t0, tcMs: t1, tflops: 4.0 * keys * Double(nH * d) / (t1 * 1e9)))
        }
        return rows
    }
}
