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
/// 2. Otherwise z_i = ℓ_i / P.temperature (one f32 division), zmax = max z.
/// 3. Candidate order: descending z, ties by ascending index.
///    Top-k (P.topK > 0): keep the first min(topK, V) candidates in that order.
/// 4. Weights w_i = exp(z_i − zmax) (f32 `expf`) over the kept candidates.
///    Top-p (P.topP < 1): walking the kept candidates in candidate order, accumulate w in f32 and keep
///    the shortest prefix whose sum ≥ P.topP × (sum of all kept w, accumulated in candidate order).
///    At least one candidate is always kept.
/// 5. Draw u = CounterRNG.uniform(seed: P.seed, counter: sampleIndex). target = u × S, where S is the
///    f32 sum of the finally kept weights accumulated in **ascending token index** order. Walk the kept
///    tokens in ascending index order accumulating w (f32); return the first token whose running sum
///    exceeds target. If rounding leaves none, return the last kept token in index order.
///
/// Without top-k and top-p, steps 3–4 keep every token and no sort is needed.
public enum Sampler {
    public static func sample(_ logits: UnsafeBufferPointer<Float>, params: SamplingParams, sampleIndex: UInt64) -> Int32 {
        let n = logits.count
        guard n > 0 else { return 0 }
        if params.isGreedy { return Int32(argmax(logits)) }
        let t = params.temperature
        let z = (0..<n).map { logits[$0] / t }   // [V] f32
        var zmax = -Float.infinity
        for x in z where x > zmax { zmax = x }
        if !zmax.isFinite { return Int32(argmax(logits)) }
        let truncating = params.topK > 0 || params.topP < 1
        var kept: [Int]      // token ids, ascending
        var weight: [Float]  // weight per kept token (same order)
        if !truncating {
            kept = Array(0..<n)
            weight = z.map { expf($0 - zmax) }
        } else {
            var order = Array(0..<n)
            order.sort { a, b in
                z[a] > z[b] || (z[a] == z[b] && a < b)
            }
            if params.topK > 0 && params.topK < n { order.removeSubrange(params.topK...) }
            var w = order.map { expf(z[$0] - zmax) }
            if params.topP < 1 {
                var total: Float = 0
                for x in w { total += x }
                let threshold = params.topP * total
                var acc: Float = 0
                var keep = order.count
                for (j, x) in w.enumerated() {
                    acc += x
                    if acc >= threshold { keep = j + 1; break }
                }
                order.removeSubrange(keep...)
                w.removeSubrange(keep...)
            }
            let pairs = zip(order, w).sorted { $0.0 < $1.0 }
            kept = pairs.map { $0.0 }
            weight = pairs.map { $0.1 }
        }
        var sum: Float = 0
        for x in weight { sum += x }
        let target = CounterRNG.uniform(seed: params.seed, counter: sampleIndex) * sum
        var acc: Float = 0
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
