// ModelConfig: the fields of a gpt-oss config.json (spec §1.1), validated against each other with
// errors that name the field, the derived constants of spec §1.3 computed from them (never
// hard-coded), and HF-format JSON written back (used by `gptoss synth`). Reading config.json (HF and
// openai `original/` keys) is in ModelConfigReader.swift.
import Foundation

public enum LayerType: String, Codable, Sendable, Equatable {
    case slidingAttention = "sliding_attention"
    case fullAttention = "full_attention"
}

/// `rope_scaling` (transformers 4.x) or `rope_parameters` (v5). Only YaRN is used by gpt-oss;
/// `default` (plain RoPE) is accepted for test models.
public struct RopeScaling: Sendable, Equatable {
    public enum Kind: String, Sendable { case yarn, `default` }
    public var kind: Kind
    public var factor: Double
    public var betaFast: Double
    public var betaSlow: Double
    /// L₀ of the YaRN correction range; nil means "use max_position_embeddings" (HF's fallback).
    public var originalMaxPositionEmbeddings: Int?
    /// When true, HF floors `low` and ceils `high`. Absent in JSON means true (HF default); gpt-oss sets false.
    public var truncate: Bool
    /// Explicit attention factor; nil means `0.1·ln(factor) + 1` (for factor > 1).
    public var attentionFactor: Double?

    public init(kind: Kind = .yarn, factor: Double = 32, betaFast: Double = 32, betaSlow: Double = 1,
                originalMaxPositionEmbeddings: Int? = 4096, truncate: Bool = false, attentionFactor: Double? = nil) {
        self.kind = kind; self.factor = factor; self.betaFast = betaFast; self.betaSlow = betaSlow
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings; self.truncate = truncate
        self.attentionFactor = attentionFactor
    }
}

public struct QuantizationConfig: Sendable, Equatable {
    /// Only "mxfp4" is supported.
    public var quantMethod: String
    public var modulesToNotConvert: [String]
    public init(quantMethod: String = "mxfp4",
                modulesToNotConvert: [String] = ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                 "model.embed_tokens", "lm_head"]) {
        self.quantMethod = quantMethod; self.modulesToNotConvert = modulesToNotConvert
    }
}

public struct ModelConfig: Sendable, Equatable {
    // MARK: Fields of config.json (spec §1.1); names are the JSON keys in camelCase.
    public var numHiddenLayers: Int          // L
    public var hiddenSize: Int               // H
    public var intermediateSize: Int         // I (per expert)
    public var numAttentionHeads: Int        // nH
    public var numKeyValueHeads: Int         // nKV
    public var headDim: Int                  // d
    public var numLocalExperts: Int          // E
    public var numExpertsPerTok: Int         // k
    public var vocabSize: Int                // V
    public var slidingWindow: Int
    public var layerTypes: [LayerType]
    public var ropeTheta: Double
    /// nil when the config has no rope_scaling (plain RoPE).
    public var ropeScaling: RopeScaling?
    public var rmsNormEps: Double
    public var swigluLimit: Double
    /// Not in gpt-oss config.json; 1.702 (v5 calls it `swiglu_alpha`).
    public var swigluAlpha: Double
    public var maxPositionEmbeddings: Int
    public var initialContextLength: Int
    public var attentionBias: Bool
    public var attentionDropout: Double
    public var hiddenAct: String
    public var tieWordEmbeddings: Bool
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    public var bosTokenId: Int?
    public var routerAuxLossCoef: Double
    /// nil for an unquantized (bf16 experts) checkpoint.
    public var quantization: QuantizationConfig?

    public init(numHiddenLayers: Int, hiddenSize: Int, intermediateSize: Int, numAttentionHeads: Int,
                numKeyValueHeads: Int, headDim: Int, numLocalExperts: Int, numExpertsPerTok: Int,
                vocabSize: Int, slidingWindow: Int, layerTypes: [LayerType]? = nil,
                ropeTheta: Double = 150_000, ropeScaling: RopeScaling? = RopeScaling(),
                rmsNormEps: Double = 1e-5, swigluLimit: Double = 7.0, swigluAlpha: Double = 1.702,
                maxPositionEmbeddings: Int = 131_072, initialContextLength: Int = 4096,
                attentionBias: Bool = true, attentionDropout: Double = 0, hiddenAct: String = "silu",
                tieWordEmbeddings: Bool = false, eosTokenIds: [Int] = [200_002], padTokenId: Int? = 199_999,
                bosTokenId: Int? = nil, routerAuxLossCoef: Double = 0.9,
                quantization: QuantizationConfig? = QuantizationConfig()) {
        self.numHiddenLayers = numHiddenLayers; self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize; self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads; self.headDim = headDim
        self.numLocalExperts = numLocalExperts; self.numExpertsPerTok = numExpertsPerTok
        self.vocabSize = vocabSize; self.slidingWindow = slidingWindow
        self.layerTypes = layerTypes ?? ModelConfig.alternatingLayerTypes(numHiddenLayers)
        self.ropeTheta = ropeTheta; self.ropeScaling = ropeScaling; self.rmsNormEps = rmsNormEps
        self.swigluLimit = swigluLimit; self.swigluAlpha = swigluAlpha
        self.maxPositionEmbeddings = maxPositionEmbeddings; self.initialContextLength = initialContextLength
        self.attentionBias = attentionBias; self.attentionDropout = attentionDropout; self.hiddenAct = hiddenAct
        self.tieWordEmbeddings = tieWordEmbeddings; self.eosTokenIds = eosTokenIds; self.padTokenId = padTokenId
        self.bosTokenId = bosTokenId; self.routerAuxLossCoef = routerAuxLossCoef; self.quantization = quantization
    }

    /// "sliding iff layer index is even" (the rule of both formats).
    public static func alternatingLayerTypes(_ n: Int) -> [LayerType] {
        (0..<max(n, 0)).map { $0 % 2 == 0 ? .slidingAttention : .fullAttention }
    }

    // MARK: Presets (spec §1.1)

    public static let gptOss20b = ModelConfig(
        numHiddenLayers: 24, hiddenSize: 2880, intermediateSize: 2880, numAttentionHeads: 64,
        numKeyValueHeads: 8, headDim: 64, numLocalExperts: 32, numExpertsPerTok: 4, vocabSize: 201_088,
        slidingWindow: 128)
    public static let gptOss120b = ModelConfig(
        numHiddenLayers: 36, hiddenSize: 2880, intermediateSize: 2880, numAttentionHeads: 64,
        numKeyValueHeads: 8, headDim: 64, numLocalExperts: 128, numExpertsPerTok: 4, vocabSize: 201_088,
        slidingWindow: 128)

    // MARK: Derived constants (spec §1.3)

    /// nH·d (4096 for the real models; ≠ H).
    public var qDim: Int { numAttentionHeads * headDim }
    /// nKV·d (512).
    public var kvDim: Int { numKeyValueHeads * headDim }
    /// Query heads per KV head; query head i reads KV head i / groupSize.
    public var gqaGroupSize: Int { numAttentionHeads / numKeyValueHeads }
    /// Logit scale 1/sqrt(d).
    public var attentionScale: Float { Float(1.0 / Double(headDim).squareRoot()) }
    public func isSliding(layer: Int) -> Bool { layerTypes[layer] == .slidingAttention }
    /// Rows of the gate_up projection (2I, interleaved gate/up).
    public var gateUpRows: Int { 2 * intermediateSize }
    /// Bytes-per-row figures of the MXFP4 expert tensors: K/32 blocks of 16 bytes.
    public var hiddenBlocks: Int { hiddenSize / 32 }
    public var intermediateBlocks: Int { intermediateSize / 32 }
    public var isMXFP4: Bool { quantization?.quantMethod == "mxfp4" }

    /// Checks the values against each other; throws ConfigError naming the field.
    public func validate(file: String = "config.json") throws {
        func fail(_ field: String, _ reason: String) -> ConfigError { ConfigError(file: file, field: field, reason: reason) }
        func positive(_ v: Int, _ field: String) throws { if v <= 0 { throw fail(field, "must be positive, got \(v)") } }
        try positive(numHiddenLayers, "num_hidden_layers")
        try positive(hiddenSize, "hidden_size")
        try positive(intermediateSize, "intermediate_size")
        try positive(numAttentionHeads, "num_attention_heads")
        try positive(numKeyValueHeads, "num_key_value_heads")
        try positive(headDim, "head_dim")
        try positive(numLocalExperts, "num_local_experts")
        try positive(numExpertsPerTok, "num_experts_per_tok")
        try positive(vocabSize, "vocab_size")
        try positive(slidingWindow, "sliding_window")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        if hiddenSize % 32 != 0 {
            throw fail("hidden_size", "must be a multiple of 32 (MXFP4 blocks of 32 along the input dimension), got \(hiddenSize)")
        }
        if intermediateSize % 32 != 0 {
            throw fail("intermediate_size", "must be a multiple of 32 (MXFP4 blocks), got \(intermediateSize)")
        }
        if numAttentionHeads % numKeyValueHeads != 0 {
            throw fail("num_key_value_heads", "num_attention_heads (\(numAttentionHeads)) must be divisible by num_key_value_heads (\(numKeyValueHeads))")
        }
        if headDim % 2 != 0 { throw fail("head_dim", "must be even (RoPE rotates halves), got \(headDim)") }
        // The element counts of the largest tensors must fit in Int with room for byte sizes and sums
        // (fused qkv rows), so that absurd sizes are an error here rather than an overflow trap later.
        func fits(_ field: String, _ factors: [(String, Int)]) throws {
            var product = 1
            for (_, f) in factors {
                let (m, overflow) = product.multipliedReportingOverflow(by: f)
                if overflow || m > Int.max / 64 {
                    let names = factors.map { "\($0.0) (\($0.1))" }.joined(separator: " × ")
                    throw fail(field, "\(names) is too large for any tensor")
                }
                product = m
            }
        }
        try fits("num_attention_heads", [("num_attention_heads", numAttentionHeads), ("head_dim", headDim), ("hidden_size", hiddenSize)])
        try fits("num_key_value_heads", [("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim), ("hidden_size", hiddenSize)])
        try fits("vocab_size", [("vocab_size", vocabSize), ("hidden_size", hiddenSize)])
        try fits("num_local_experts", [("num_local_experts", numLocalExperts), ("intermediate_size", intermediateSize), ("hidden_size", hiddenSize)])
        if numExpertsPerTok > numLocalExperts {
            throw fail("num_experts_per_tok", "\(numExpertsPerTok) exceeds num_local_experts (\(numLocalExperts))")
        }
        if layerTypes.count != numHiddenLayers {
            throw fail("layer_types", "has \(layerTypes.count) entries but num_hidden_layers is \(numHiddenLayers)")
        }
        if !(ropeTheta > 1) || !ropeTheta.isFinite { throw fail("rope_theta", "must be a finite number > 1, got \(ropeTheta)") }
        if !(rmsNormEps > 0) || !rmsNormEps.isFinite { throw fail("rms_norm_eps", "must be positive, got \(rmsNormEps)") }
        if !(swigluLimit > 0) || !swigluLimit.isFinite { throw fail("swiglu_limit", "must be positive, got \(swigluLimit)") }
        if !swigluAlpha.isFinite { throw fail("swiglu_alpha", "must be finite") }
        if let rs = ropeScaling, rs.kind == .yarn {
            if !(rs.factor >= 1) || !rs.factor.isFinite { throw fail("rope_scaling.factor", "must be ≥ 1, got \(rs.factor)") }
            if !(rs.betaFast > 0) { throw fail("rope_scaling.beta_fast", "must be positive, got \(rs.betaFast)") }
            if !(rs.betaSlow > 0) { throw fail("rope_scaling.beta_slow", "must be positive, got \(rs.betaSlow)") }
            if let o = rs.originalMaxPositionEmbeddings, o <= 0 {
                throw fail("rope_scaling.original_max_position_embeddings", "must be positive, got \(o)")
            }
        }
        if let q = quantization, q.quantMethod != "mxfp4" {
            throw fail("quantization_config.quant_method", "unknown quantization method '\(q.quantMethod)'; only 'mxfp4' (the gpt-oss release format) is supported")
        }
        if tieWordEmbeddings {
            throw fail("tie_word_embeddings", "gpt-oss has a separate lm_head; tied embeddings are not supported")
        }
        for id in eosTokenIds + [padTokenId, bosTokenId].compactMap({ $0 }) where id < 0 {
            throw fail("eos_token_id", "token ids must be non-negative, got \(id)")
        }
    }

    // MARK: Writing (HF format)

    /// The config as HF config.json (sorted keys, pretty-printed).
    public func jsonData() throws -> Data {
        var d: [String: Any] = [
            "architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss",
            "num_hidden_layers": numHiddenLayers, "hidden_size": hiddenSize,
            "intermediate_size": intermediateSize, "num_attention_heads": numAttentionHeads,
            "num_key_value_heads": numKeyValueHeads, "head_dim": headDim,
            "num_local_experts": numLocalExperts, "num_experts_per_tok": numExpertsPerTok,
            "experts_per_token": numExpertsPerTok,
            "vocab_size": vocabSize, "sliding_window": slidingWindow,
            "layer_types": layerTypes.map(\.rawValue), "rope_theta": ropeTheta,
            "rms_norm_eps": rmsNormEps, "swiglu_limit": swigluLimit,
            "max_position_embeddings": maxPositionEmbeddings, "initial_context_length": initialContextLength,
            "attention_bias": attentionBias, "attention_dropout": attentionDropout, "hidden_act": hiddenAct,
            "tie_word_embeddings": tieWordEmbeddings, "router_aux_loss_coef": routerAuxLossCoef,
            "output_router_logits": false, "use_cache": true, "torch_dtype": "bfloat16",
        ]
        if swigluAlpha != 1.702 { d["swiglu_alpha"] = swigluAlpha }
        d["eos_token_id"] = eosTokenIds.count == 1 ? eosTokenIds[0] as Any : eosTokenIds as Any
        if let p = padTokenId { d["pad_token_id"] = p }
        if let b = bosTokenId { d["bos_token_id"] = b }
        if let rs = ropeScaling {
            var r: [String: Any] = ["rope_type": rs.kind.rawValue, "factor": rs.factor,
                                    "beta_fast": rs.betaFast, "beta_slow": rs.betaSlow, "truncate": rs.truncate]
            if let o = rs.originalMaxPositionEmbeddings { r["original_max_position_embeddings"] = o }
            if let a = rs.attentionFactor { r["attention_factor"] = a }
            d["rope_scaling"] = r
        }
        if let q = quantization {
            d["quantization_config"] = ["quant_method": q.quantMethod, "modules_to_not_convert": q.modulesToNotConvert]
        }
        return try JSONSerialization.data(withJSONObject: d, options: [.prettyPrinted, .sortedKeys])
    }
}
