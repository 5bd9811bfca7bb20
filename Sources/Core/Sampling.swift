// Sampling parameters and the counter-based RNG every backend uses, so a seed gives the same tokens
// on CPU and GPU and a batch gives the same tokens as single runs.
import Foundation

public struct SamplingParams: Sendable, Equatable {
    /// 0 means greedy (argmax, lowest index wins ties).
    public var temperature: Float
    /// Nucleus threshold in (0, 1]; 1 disables it.
    public var topP: Float
    /// 0 disables top-k.
    public var topK: Int
    public var seed: UInt64

    public init(temperature: Float = 1.0, topP: Float = 1.0, topK: Int = 0, seed: UInt64 = 0) {
        self.temperature = temperature; self.topP = topP; self.topK = topK; self.seed = seed
    }
    public static let greedy = SamplingParams(temperature: 0)
    public var isGreedy: Bool { temperature <= 0 }
}

/// Stateless counter-based generator: a uniform float in [0, 1) from (seed, counter).
/// SplitMix64 finalizer over the mixed pair; trivially reproducible in a CUDA kernel.
public enum CounterRNG {
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 24 bits of precision (exactly representable in f32).
    @inline(__always)
    public static func uniform(seed: UInt64, counter: UInt64) -> Float {
        let r = mix(mix(seed) ^ counter)
        return Float(r >> 40) * (1.0 / 16_777_216.0)
    }
}

/// The sampling rule every backend implements, so that a seed gives the same token everywhere
/// (given the same logits). Exact rule, for logits ℓ[0..<V] (f32) and `SamplingParams` P:
///
/// 1. Greedy (P.temperature ≤ 0): the index of the largest logit; ties → the lowest index.
///    NaN logits are never chosen (unless all are NaN, then 0).
/// 2. Otherwise z_i = ℓ_i / P.temperature (one IEEE f32 division; NaN becomes −∞), zmax = max z.
///    If zmax is not finite, fall back to rule 1.
/// 3. Candidate order: descending z, ties (equal values; −0 equals +0) by ascending index.
///    Top-k (0 < P.topK < V): keep the first P.topK candidates in that order.
/// 4. Weights are fixed-point integers q_i = ⌊Double(expf(z_i − zmax)) · 2^44⌋ (UInt64), so every sum
///    below is exact and independent of summation order (the GPU kernel sums them in parallel and gets
///    the same integers). Tokens with z_i − zmax < −30.5 get q = 0 and are never drawn (their total
///    probability is below V·2^-44 ≈ 1e-8).
///    Top-p (P.topP < 1): M = Σ q over the kept candidates, θ = Double(P.topP) · Double(M); walking the
///    kept candidates in candidate order, keep the shortest prefix whose running sum A has
///    Double(A) ≥ θ. At least one candidate is always kept.
/// 5. Draw u = CounterRNG.uniform(seed: P.seed, counter: sampleIndex); S = Σ q over the finally kept
///    tokens; target = UInt64(Double(u) · Double(S)). Walking the kept tokens in ascending index
///    order, return the first whose running sum of q exceeds target.
///
/// CUDABackend (kernels/sample.cu, f32_sample) implements the same integers; the only source of
/// disagreement is expf itself (CUDA's expf is within 2 ulp, glibc's within 1), which moves a weight by
/// ~1e-7 relative, so tokens differ only when u lands that close to a boundary of the CDF.
public enum Sampler {
    /// 2^44: the fixed-point scale of the weights.
    public static let weightScale: Double = 17_592_186_044_416

    @inline(__always)
    static func weight(_ z: Float, _ zmax: Float) -> UInt64 {
        UInt64(Double(expf(z - zmax)) * weightScale)
    }

    public static func sample(_ logits: UnsafeBufferPointer<Float>, params: SamplingParams, sampleIndex: UInt64) -> Int32 {
        let n = logits.count
        guard n > 0 else { return 0 }
        if params.isGreedy { return Int32(argmax(logits)) }
        let t = params.temperature
        let z: [Float] = (0..<n).map { let v = logits[$0] / t; return v.isNaN ? -.infinity : v }   // [V] f32
        var zmax = -Float.infinity
        for x in z where x > zmax { zmax = x }
        if !zmax.isFinite { return Int32(argmax(logits)) }
        let useK = params.topK > 0 && params.topK < n
        let truncating = useK || params.topP < 1
        var kept: [Int]        // token ids, ascending
        var weight: [UInt64]   // q per kept token (same order)
        if !truncating {
            kept = Array(0..<n)
            weight = z.map { Self.weight($0, zmax) }
        } else {
            var order = Array(0..<n)
            order.sort { a, b in
                z[a] > z[b] || (z[a] == z[b] && a < b)
            }
            if useK { order.removeSubrange(params.topK...) }
            var w = order.map { Self.weight(z[$0], zmax) }
            if params.topP < 1 {
                var total: UInt64 = 0
                for x in w { total += x }
                let threshold = Double(params.topP) * Double(total)
                var acc: UInt64 = 0
                var keep = order.count
                for (j, x) in w.enumerated() {
                    acc += x
                    if Double(acc) >= threshold { keep = j + 1; break }
                }
                order.removeSubrange(keep...)
                w.removeSubrange(keep...)
            }
            let pairs = zip(order, w).sorted { $0.0 < $1.0 }
            kept = pairs.map { $0.0 }
            weight = pairs.map { $0.1 }
        }
        var sum: UInt64 = 0
        for x in weight { sum += x }
        let u = CounterRNG.uniform(seed: params.seed, counter: sampleIndex)
        let target = UInt64(Double(u) * Double(sum))
        var acc: UInt64 = 0
        for (j, x) in weight.enumerated() {
            acc += x
            if acc > target { return Int32(kept[j]) }
        }
        return Int32(kept[kept.count - 1])
    }

    /// Index of the largest value, lowest index on ties, NaN skipped.
    public static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        var found = false
        for i in 0..<x.count where !x[i].isNaN {
            if !found || x[i] > bestValue { best = i; bestValue = x[i]; found = true }
        }
        return best
    }

    public static func sample(_ logits: [Float], params: SamplingParams, sampleIndex: UInt64) -> Int32 {
        logits.withUnsafeBufferPointer { sample($0, params: params, sampleIndex: sampleIndex) }
    }
}
