// DecodeRoofline: weight bytes one batch-1 decode step must read (spec §7.3), the numerator of the
// bandwidth floor that bench and docs/perf-notes.md compare against.
import Core

public enum DecodeRoofline {
    /// Attention (bf16, with biases and sinks), router, norms, k experts (MXFP4 codes + E8M0 scales +
    /// bf16 biases) per layer, the final norm, the whole lm_head and one embedding row.
    /// 3,708,089,088 B for gpt-oss-20b; 5,002,907,904 B for gpt-oss-120b.
    public static func weightBytesPerToken(_ c: ModelConfig) -> Int {
        let H = c.hiddenSize, I = c.intermediateSize, q = c.qDim, kv = c.kvDim, E = c.numLocalExperts
        let attention = 2 * ((q + 2 * kv) * H + (q + 2 * kv) + q * H + H + c.numAttentionHeads)
        let router = 2 * (E * H + E), norms = 2 * 2 * H
        let expert = (2 * I * H + H * I) * 17 / 32 + 2 * (2 * I + H)
        let perLayer = attention + router + norms + c.numExpertsPerTok * expert
        return c.numHiddenLayers * perLayer + 2 * H + 2 * c.vocabSize * H + 2 * H
    }
}
