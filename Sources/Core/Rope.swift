// RotaryEmbedding: the YaRN inverse-frequency table and per-position cos/sin of spec §3.4, computed
// from the config exactly as HF's `_compute_yarn_parameters` does (fp32 pow/div/blend, python-double
// correction range, fp32 angle p·f_j, accurate cos/sin of that fp32 angle, × attention factor m in fp32).
import Foundation

public struct RotaryEmbedding: Sendable, Equatable {
    /// d (rotary dimension = head_dim; gpt-oss has no partial rotary).
    public let headDim: Int
    /// f_j, j = 0..<d/2 (fp32).
    public let inverseFrequencies: [Float]
    /// m = 0.1·ln(factor) + 1 for YaRN (or the config's attention_factor); 1 for plain RoPE.
    public let attentionFactor: Float
    /// YaRN correction range after optional truncation and clamping (nil for plain RoPE).
    public let correctionRange: (low: Double, high: Double)?

    public static func == (a: RotaryEmbedding, b: RotaryEmbedding) -> Bool {
        a.headDim == b.headDim && a.inverseFrequencies == b.inverseFrequencies && a.attentionFactor == b.attentionFactor
    }

    public init(config: ModelConfig) {
        let d = config.headDim
        headDim = d
        let half = d / 2
        let base = Float(config.ropeTheta)
        // pos_freqs = base ** (arange(0, d, 2).float() / d)   (fp32)
        let posFreqs: [Float] = (0..<half).map { j in powf(base, Float(2 * j) / Float(d)) }
        guard let rs = config.ropeScaling, rs.kind == .yarn else {
            inverseFrequencies = posFreqs.map { 1 / $0 }
            attentionFactor = 1
            correctionRange = nil
            return
        }
        // Explicit factor (transformers v5 semantics; the gpt-oss configs have
        // factor == max_position_embeddings / original_max_position_embeddings anyway).
        let factor = rs.factor
        let m = rs.attentionFactor ?? (factor <= 1 ? 1.0 : 0.1 * log(factor) + 1.0)
        attentionFactor = Float(m)
        let l0 = Double(rs.originalMaxPositionEmbeddings ?? config.maxPositionEmbeddings)
        let theta = config.ropeTheta
        func correctionDim(_ rotations: Double) -> Double {
            Double(d) * log(l0 / (rotations * 2 * Double.pi)) / (2 * log(theta))
        }
        var low = correctionDim(rs.betaFast)
        var high = correctionDim(rs.betaSlow)
        if rs.truncate { low = low.rounded(.down); high = high.rounded(.up) }
        low = max(low, 0)
        high = min(high, Double(d - 1))
        correctionRange = (low, high)
        if low == high { high += 0.001 }
        let lowF = Float(low), spanF = Float(high - low)
        let factorF = Float(factor)
        inverseFrequencies = (0..<half).map { j in
            let extrapolation = 1 / posFreqs[j]
            let interpolation = 1 / (factorF * posFreqs[j])
            let ramp = min(max((Float(j) - lowF) / spanF, 0), 1)
            let gamma = 1 - ramp                       // HF's inv_freq_extrapolation_factor
            return interpolation * (1 - gamma) + extrapolation * gamma
        }
    }

    /// C_j(p) = m·cos(p·f_j) and S_j(p) = m·sin(p·f_j) for j < d/2, written to `cos`/`sin` (d/2 each).
    public func cosSin(position: Int, cos cosOut: UnsafeMutablePointer<Float>, sin sinOut: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for j in 0..<inverseFrequencies.count {
            let angle = Double(p * inverseFrequencies[j])     // fp32 product, then accurate cos/sin
            cosOut[j] = Float(Foundation.cos(angle)) * attentionFactor
            sinOut[j] = Float(Foundation.sin(angle)) * attentionFactor
        }
    }

    /// Tables for positions 0..<count: row-major [count, d/2] each (used by backends that upload them).
    public func table(positions count: Int) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        var c = [Float](repeating: 0, count: count * half)
        var s = [Float](repeating: 0, count: count * half)
        c.withUnsafeMutableBufferPointer { cb in
            s.withUnsafeMutableBufferPointer { sb in
                for p in 0..<count { cosSin(position: p, cos: cb.baseAddress! + p * half, sin: sb.baseAddress! + p * half) }
            }
        }
        return (c, s)
    }
}
