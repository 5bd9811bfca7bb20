// Sampling parameters and the counter-based RNG every backend uses, so a seed gives the same tokens
// on CPU and GPU and a batch gives the same tokens as single runs.

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
