// SamplingSelfTest: f32_sample (kernels/sample.cu) against Core.Sampler on random logits rows (smooth,
// peaked and heavily tied rows, at V = 201,088 and a small V) over a grid of temperatures, top-k,
// top-p and seeds; counts tokens that differ and times the kernel. Run by
// `gptoss cuda-check --sampling-selftest`. Expected mismatches: 0, or a handful where u lands within
// expf's rounding (CUDA ≤ 2 ulp vs glibc) of a CDF boundary.
import Core
import Foundation

public struct SamplingSelfTestResult: Sendable {
    public var vocab: Int
    public var prepared: Bool                 // keys / weights from the many-block prep kernels
    public var cases: Int
    public var mismatches: Int
    public var examples: [String]            // first few mismatches, described
    public var kernelMs: [(String, Double)]   // per-launch time for one sequence, by parameter set
}

public enum SamplingSelfTest {
    static func rows(_ R: Int, _ V: Int, seed: UInt64) -> [Float] {
        var s = seed
        func uni() -> Float { s = CounterRNG.mix(s); return Float(s >> 40) / Float(1 << 24) }
        var out = [Float](repeating: 0, count: R * V)
        for r in 0..<R {
            let scale: Float = [1, 3, 6, 10][r % 4]
            let tied = r % 3 == 2          // values on a 0.5 grid: many exact ties
            for i in 0..<V {
                var g: Float = 0
                for _ in 0..<4 { g += uni() }          // ≈ normal, mean 2
                var x = (g - 2) * scale
                if uni() < 2e-4 { x += 8 * scale * uni() }  // a few strong candidates
                if tied { x = (x * 2).rounded() / 2 }
                out[r * V + i] = x
            }
        }
        return out
    }

    public static func run(device dev: CUDADevice, vocab V: Int, rowsPerKind R: Int = 8, seeds: Int = 4) throws -> SamplingSelfTestResult {
        try dev.loadKernels()
        let logits = rows(R, V, seed: 0xC0FFEE ^ UInt64(V))
        var cases: [(row: Int, p: SamplingParams, index: UInt64)] = []
        for r in 0..<R {
            for t: Float in [0.5, 0.8, 1.0, 1.5] {
                for k in [0, 1, 50] {
                    for p: Float in [0.9, 1.0] {
                        for sd in 0..<seeds {
                            let seed = UInt64(r * 1_000_003 + sd * 7919 + k) &* 0x9E37_79B9
                            cases.append((r, SamplingParams(temperature: t, topP: p, topK: k, seed: seed), UInt64(sd * 31 + r)))
                        }
                    }
                }
            }
        }
        let B = cases.count
        let lg = try dev.alloc(4 * logits.count, what: "sampling self-test logits")
        try dev.upload(logits, to: lg.pointer)
        let rowsBuf = try dev.alloc(4 * B, what: "sampling self-test rows")
        try dev.upload(cases.map { Int32($0.row) }, to: rowsBuf.pointer)
        var host = [UInt8](repeating: 0, count: GPUSampling.paramsStride * B)
        host.withUnsafeMutableBytes { buf in
            for (j, c) in cases.enumerated() { GPUSampling.write(c.p, sampleIndex: c.index, at: buf.baseAddress!, index: j) }
        }
        let params = try dev.alloc(host.count, what: "sampling self-test params")
        try dev.upload(host, to: params.pointer)
        let tokens = try dev.alloc(4 * B, what: "sampling self-test tokens")
        try dev.upload([Int32](repeating: -1, count: B), to: tokens.pointer)
        let scratch = GPUSampling.usePrep ? try GPUSampling.Scratch(device: dev, sequences: B, vocab: V) : nil
        try GPUSampling.launch(dev, logits: lg.pointer, rows: rowsBuf.pointer, V: V, params: params.pointer, tokens: tokens.pointer, B: B, scratch: scratch)
        let gpu = try dev.download(tokens.pointer, count: B, as: Int32.self)

        // CPU reference, in parallel over cases.
        var cpu = [Int32](repeating: -2, count: B)
        cpu.withUnsafeMutableBufferPointer { out in
            let o = out
            logits.withUnsafeBufferPointer { lp in
                DispatchQueue.concurrentPerform(iterations: B) { j in
                    let c = cases[j]
                    o[j] = Sampler.sample(UnsafeBufferPointer(rebasing: lp[(c.row * V)..<((c.row + 1) * V)]), params: c.p, sampleIndex: c.index)
                }
            }
        }
        var mism = 0
        var examples: [String] = []
        for j in 0..<B where gpu[j] != cpu[j] {
            mism += 1
            if examples.count < 5 {
                let c = cases[j]
                examples.append("row \(c.row) T=\(c.p.temperature) k=\(c.p.topK) p=\(c.p.topP) seed=\(c.p.seed) idx=\(c.index): gpu \(gpu[j]) cpu \(cpu[j])")
            }
        }

        // Timing: one sequence per launch (the decode case).
        var times: [(String, Double)] = []
        for (name, p) in [("T=1", SamplingParams(temperature: 1)), ("T=1 top-k 50", SamplingParams(temperature: 1, topK: 50)),
                          ("T=1 top-p 0.9", SamplingParams(temperature: 1, topP: 0.9)),
                          ("T=1 top-k 50 top-p 0.9", SamplingParams(temperature: 1, topP: 0.9, topK: 50))] {
            host.withUnsafeMutableBytes { GPUSampling.write(p, sampleIndex: 0, at: $0.baseAddress!, index: 0) }
            try dev.upload(Array(host[0..<GPUSampling.paramsStride]), to: params.pointer)
            try GPUSampling.launch(dev, logits: lg.pointer, rows: rowsBuf.pointer, V: V, params: params.pointer, tokens: tokens.pointer, B: 1, scratch: scratch)
            let reps = 20
            let s = try dev.time {
                for _ in 0..<reps {
                    try GPUSampling.launch(dev, logits: lg.pointer, rows: rowsBuf.pointer, V: V, params: params.pointer, tokens: tokens.pointer, B: 1, scratch: scratch)
                }
            }
            times.append((name, s / Double(reps)))
        }
        return SamplingSelfTestResult(vocab: V, prepared: GPUSampling.usePrep, cases: B, mismatches: mism, examples: examples, kernelMs: times)
    }
}
