// Reading config.json into ModelConfig (spec §1.1, §1.2): the typed field reader with HF's defaults
// and errors that name the field, both key sets (HF and openai `original/`), rope_scaling (v4) /
// rope_parameters (v5), and the Decodable conformance. Validation itself is ModelConfig.validate.
import Foundation

extension ModelConfig {
    // MARK: Loading

    /// Reads and validates `url` (an HF config.json, or an openai `original/config.json`).
    public static func load(from url: URL) throws -> ModelConfig {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckpointError.fileMissing(file: path, hint: "A model directory needs config.json (the Hugging Face layout).")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.io(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: path)
    }

    /// Decodes and validates config JSON; `file` only labels errors.
    public static func decode(_ data: Data, file: String = "config.json") throws -> ModelConfig {
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch {
            throw ConfigError(file: file, field: "", reason: "not valid JSON (\(error))")
        }
        guard let dict = root.objectValue else {
            throw ConfigError(file: file, field: "", reason: "top level is not a JSON object")
        }
        let config = try ConfigReader(dict: dict, file: file).read()
        try config.validate(file: file)
        return config
    }
}

/// Reads typed fields out of the JSON dictionary, with HF's defaults and field-naming errors.
private struct ConfigReader {
    let dict: [String: JSONValue]
    let file: String

    func fail(_ field: String, _ reason: String) -> ConfigError { ConfigError(file: file, field: field, reason: reason) }

    func value(_ key: String, _ d: [String: JSONValue]?) -> JSONValue? {
        guard let v = (d ?? dict)[key], !v.isNull else { return nil }
        return v
    }
    /// `key` read by `extract`; nil when absent or null, an error naming the field when of the wrong type.
    func field<T>(_ key: String, _ d: [String: JSONValue]?, _ prefix: String, expected: String,
                  _ extract: (JSONValue) -> T?) throws -> T? {
        guard let v = value(key, d) else { return nil }
        guard let x = extract(v) else { throw fail(prefix + key, "expected \(expected), got \(v.brief)") }
        return x
    }
    func int(_ key: String, in d: [String: JSONValue]? = nil, prefix: String = "") throws -> Int? {
        try field(key, d, prefix, expected: "an integer", \.intValue)
    }
    func double(_ key: String, in d: [String: JSONValue]? = nil, prefix: String = "") throws -> Double? {
        try field(key, d, prefix, expected: "a number", \.doubleValue)
    }
    func bool(_ key: String, in d: [String: JSONValue]? = nil, prefix: String = "") throws -> Bool? {
        try field(key, d, prefix, expected: "true or false", \.boolValue)
    }
    func string(_ key: String, in d: [String: JSONValue]? = nil, prefix: String = "") throws -> String? {
        try field(key, d, prefix, expected: "a string", \.stringValue)
    }
    func required<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw fail(field, "missing (required)") }
        return value
    }

    func read() throws -> ModelConfig {
        // HF names first, then the openai original/config.json names (spec §1.2).
        let layers = try required(try int("num_hidden_layers"), "num_hidden_layers")
        let hidden = try required(try int("hidden_size"), "hidden_size")
        let inter = try required(try int("intermediate_size"), "intermediate_size")
        let heads = try required(try int("num_attention_heads"), "num_attention_heads")
        let kvHeads = try int("num_key_value_heads") ?? heads
        let headDim = try int("head_dim") ?? 64
        let experts = try required(try int("num_local_experts") ?? int("num_experts"), "num_local_experts")
        let topK = try int("num_experts_per_tok") ?? int("experts_per_token") ?? 4
        let vocab = try required(try int("vocab_size"), "vocab_size")
        let window = try int("sliding_window") ?? 128

        var layerTypes: [LayerType]? = nil
        if let raw = value("layer_types", nil) {
            guard let arr = raw.arrayValue else { throw fail("layer_types", "expected a list of strings, got \(raw.brief)") }
            layerTypes = try arr.enumerated().map { i, v in
                guard let s = v.stringValue, let t = LayerType(rawValue: s) else {
                    throw fail("layer_types[\(i)]", "unknown layer type \(v.brief); expected sliding_attention or full_attention")
                }
                return t
            }
        }

        // rope_scaling (v4) / rope_parameters (v5) / original keys.
        var scaling: RopeScaling? = nil
        var theta = try double("rope_theta")
        let ropeKey = value("rope_parameters", nil) != nil ? "rope_parameters" : "rope_scaling"
        if let raw = value(ropeKey, nil) {
            guard let rs = raw.objectValue else { throw fail(ropeKey, "expected an object, got \(raw.brief)") }
            let p = ropeKey + "."
            let type = try string("rope_type", in: rs, prefix: p) ?? string("type", in: rs, prefix: p) ?? "default"
            if let t = try double("rope_theta", in: rs, prefix: p) { theta = t }
            switch type {
            case "yarn":
                scaling = RopeScaling(
                    kind: .yarn,
                    factor: try required(try double("factor", in: rs, prefix: p), p + "factor"),
                    betaFast: try double("beta_fast", in: rs, prefix: p) ?? 32,
                    betaSlow: try double("beta_slow", in: rs, prefix: p) ?? 1,
                    originalMaxPositionEmbeddings: try int("original_max_position_embeddings", in: rs, prefix: p),
                    truncate: try bool("truncate", in: rs, prefix: p) ?? true,
                    attentionFactor: try double("attention_factor", in: rs, prefix: p))
            case "default":
                scaling = nil
            default:
                throw fail(p + "rope_type", "unsupported rope type '\(type)'; gpt-oss uses 'yarn'")
            }
        } else if let f = try double("rope_scaling_factor") {
            // original/config.json (spec §1.2): the openai reference applies no truncation.
            scaling = RopeScaling(kind: .yarn, factor: f,
                                  betaFast: try double("rope_ntk_beta") ?? 32, betaSlow: try double("rope_ntk_alpha") ?? 1,
                                  originalMaxPositionEmbeddings: try int("initial_context_length") ?? 4096,
                                  truncate: false)
        }

        var eos: [Int] = []
        if let v = value("eos_token_id", nil) {
            if let arr = v.arrayValue {
                eos = try arr.map { guard let i = $0.intValue else { throw fail("eos_token_id", "expected integers, got \($0.brief)") }; return i }
            } else if let i = v.intValue { eos = [i] } else { throw fail("eos_token_id", "expected an integer or a list, got \(v.brief)") }
        }

        var quant: QuantizationConfig? = nil
        if let q = value("quantization_config", nil) {
            guard let qd = q.objectValue else { throw fail("quantization_config", "expected an object, got \(q.brief)") }
            let method = try required(try string("quant_method", in: qd, prefix: "quantization_config."), "quantization_config.quant_method")
            let modules = (qd["modules_to_not_convert"]?.arrayValue ?? []).compactMap(\.stringValue)
            quant = QuantizationConfig(quantMethod: method, modulesToNotConvert: modules)
        }

        return ModelConfig(
            numHiddenLayers: layers, hiddenSize: hidden, intermediateSize: inter, numAttentionHeads: heads,
            numKeyValueHeads: kvHeads, headDim: headDim, numLocalExperts: experts, numExpertsPerTok: topK,
            vocabSize: vocab, slidingWindow: window, layerTypes: layerTypes,
            ropeTheta: theta ?? 150_000, ropeScaling: scaling,
            rmsNormEps: try double("rms_norm_eps") ?? 1e-5,
            swigluLimit: try double("swiglu_limit") ?? 7.0,
            swigluAlpha: try double("swiglu_alpha") ?? 1.702,
            maxPositionEmbeddings: try int("max_position_embeddings") ?? 131_072,
            initialContextLength: try int("initial_context_length") ?? 4096,
            attentionBias: try bool("attention_bias") ?? true,
            attentionDropout: try double("attention_dropout") ?? 0,
            hiddenAct: try string("hidden_act") ?? "silu",
            tieWordEmbeddings: try bool("tie_word_embeddings") ?? false,
            eosTokenIds: eos, padTokenId: try int("pad_token_id"), bosTokenId: try int("bos_token_id"),
            routerAuxLossCoef: try double("router_aux_loss_coef") ?? 0.9,
            quantization: quant)
    }
}

/// Decodable over the same JSON (any decoder): the HF keys with HF's defaults, then `validate()`.
/// Errors are ConfigError with file "config.json".
extension ModelConfig: Decodable {
    public init(from decoder: Decoder) throws {
        let value = try JSONValue(from: decoder)
        guard let dict = value.objectValue else {
            throw ConfigError(file: "config.json", field: "", reason: "top level is not a JSON object")
        }
        self = try ConfigReader(dict: dict, file: "config.json").read()
        try validate()
    }
}
