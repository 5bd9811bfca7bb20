// ModelConfig decoding (HF v4/v5 and original layouts), derived constants and validation errors.
import XCTest
@testable import Core

/// config.json of openai/gpt-oss-20b (spec §1.1).
let hf20bConfigJSON = """
{
  "architectures": ["GptOssForCausalLM"], "attention_bias": true, "attention_dropout": 0.0,
  "eos_token_id": 200002, "experts_per_token": 4, "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2880, "initial_context_length": 4096, "initializer_range": 0.02,
  "intermediate_size": 2880,
  "layer_types": ["sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention","sliding_attention","full_attention"],
  "max_position_embeddings": 131072, "model_type": "gpt_oss", "num_attention_heads": 64,
  "num_experts_per_tok": 4, "num_hidden_layers": 24, "num_key_value_heads": 8, "num_local_experts": 32,
  "output_router_logits": false, "pad_token_id": 199999,
  "quantization_config": {"modules_to_not_convert": ["model.layers.*.self_attn","model.layers.*.mlp.router","model.embed_tokens","lm_head"], "quant_method": "mxfp4"},
  "rms_norm_eps": 1e-05,
  "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0, "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false},
  "rope_theta": 150000, "router_aux_loss_coef": 0.9, "sliding_window": 128, "swiglu_limit": 7.0,
  "tie_word_embeddings": false, "transformers_version": "4.55.0.dev0", "use_cache": true, "vocab_size": 201088
}
"""

func mutated(_ json: String, _ edit: (inout [String: Any]) -> Void) -> Data {
    var d = try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    edit(&d)
    return try! JSONSerialization.data(withJSONObject: d)
}

final class ConfigTests: XCTestCase {
    func testDecodes20bConfig() throws {
        let c = try ModelConfig.decode(Data(hf20bConfigJSON.utf8))
        XCTAssertEqual(c, ModelConfig.gptOss20b)
        XCTAssertEqual(c.numHiddenLayers, 24)
        XCTAssertEqual(c.qDim, 4096)
        XCTAssertEqual(c.kvDim, 512)
        XCTAssertEqual(c.gqaGroupSize, 8)
        XCTAssertEqual(c.attentionScale, 0.125)
        XCTAssertTrue(c.isSliding(layer: 0))
        XCTAssertFalse(c.isSliding(layer: 1))
        XCTAssertEqual(c.ropeScaling, RopeScaling(kind: .yarn, factor: 32, betaFast: 32, betaSlow: 1,
                                                  originalMaxPositionEmbeddings: 4096, truncate: false))
        XCTAssertEqual(c.quantization?.quantMethod, "mxfp4")
        XCTAssertEqual(c.eosTokenIds, [200002])
        XCTAssertEqual(c.rmsNormEps, 1e-5)
        XCTAssertEqual(c.swigluAlpha, 1.702)
    }

    func testRoundTripsThroughJSON() throws {
        for c in [ModelConfig.gptOss20b, .gptOss120b, SyntheticCheckpoint.config(.tiny)] {
            XCTAssertEqual(try ModelConfig.decode(try c.jsonData()), c)
        }
    }

    func testDecodableConformance() throws {
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: Data(hf20bConfigJSON.utf8)), .gptOss20b)
        XCTAssertThrowsError(try JSONDecoder().decode(ModelConfig.self, from: mutated(hf20bConfigJSON) { $0["head_dim"] = 63 })) {
            XCTAssertEqual(($0 as? ConfigError)?.field, "head_dim")
        }
    }

    func testV5RopeParameters() throws {
        let data = mutated(hf20bConfigJSON) { d in
            d["rope_scaling"] = nil; d["rope_theta"] = nil
            d["rope_parameters"] = ["rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
                                    "original_max_position_embeddings": 4096, "truncate": false, "rope_theta": 150000.0]
        }
        XCTAssertEqual(try ModelConfig.decode(data), ModelConfig.gptOss20b)
    }

    func testOriginalConfig() throws {
        let json = """
        {"num_hidden_layers": 24, "num_experts": 32, "experts_per_token": 4, "vocab_size": 201088,
         "hidden_size": 2880, "intermediate_size": 2880, "swiglu_limit": 7.0, "head_dim": 64,
         "num_attention_heads": 64, "num_key_value_heads": 8, "sliding_window": 128,
         "initial_context_length": 4096, "rope_theta": 150000, "rope_scaling_factor": 32.0,
         "rope_ntk_alpha": 1.0, "rope_ntk_beta": 32.0}
        """
        let c = try ModelConfig.decode(Data(json.utf8))
        XCTAssertEqual(c.numLocalExperts, 32)
        XCTAssertEqual(c.layerTypes, ModelConfig.gptOss20b.layerTypes)
        XCTAssertEqual(c.ropeScaling, ModelConfig.gptOss20b.ropeScaling)
    }

    func testTruncateDefaultsToTrueWhenAbsent() throws {
        let data = mutated(hf20bConfigJSON) { d in
            var r = d["rope_scaling"] as! [String: Any]; r["truncate"] = nil; d["rope_scaling"] = r
        }
        XCTAssertEqual(try ModelConfig.decode(data).ropeScaling?.truncate, true)
    }

    private func assertConfigError(_ field: String, contains text: String, file: StaticString = #filePath, line: UInt = #line,
                                   _ edit: (inout [String: Any]) -> Void) {
        let data = mutated(hf20bConfigJSON, edit)
        XCTAssertThrowsError(try ModelConfig.decode(data, file: "/m/config.json"), file: file, line: line) { error in
            guard let e = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.field, field, file: file, line: line)
            XCTAssertEqual(e.file, "/m/config.json", file: file, line: line)
            XCTAssertTrue(e.description.contains(text), "\(e.description)", file: file, line: line)
        }
    }

    func testImpossibleValuesNameTheField() {
        assertConfigError("hidden_size", contains: "multiple of 32") { $0["hidden_size"] = 2881 }
        assertConfigError("num_key_value_heads", contains: "divisible") { $0["num_key_value_heads"] = 7 }
        assertConfigError("num_experts_per_tok", contains: "exceeds") { $0["num_experts_per_tok"] = 33 }
        assertConfigError("quantization_config.quant_method", contains: "unknown quantization method 'gptq'") {
            $0["quantization_config"] = ["quant_method": "gptq"]
        }
        assertConfigError("layer_types", contains: "23 entries") {
            $0["layer_types"] = Array(($0["layer_types"] as! [String]).dropLast())
        }
        assertConfigError("layer_types[0]", contains: "unknown layer type") {
            var t = $0["layer_types"] as! [String]; t[0] = "chunked"; $0["layer_types"] = t
        }
        assertConfigError("num_hidden_layers", contains: "missing") { $0["num_hidden_layers"] = nil }
        assertConfigError("hidden_size", contains: "expected an integer") { $0["hidden_size"] = "big" }
        assertConfigError("num_attention_heads", contains: "positive") { $0["num_attention_heads"] = 0 }
        assertConfigError("intermediate_size", contains: "multiple of 32") { $0["intermediate_size"] = 100 }
        assertConfigError("rope_scaling.rope_type", contains: "unsupported rope type") {
            $0["rope_scaling"] = ["rope_type": "longrope", "factor": 2.0]
        }
        assertConfigError("rope_scaling.factor", contains: "missing") { $0["rope_scaling"] = ["rope_type": "yarn"] }
        assertConfigError("attention_bias", contains: "true or false") { $0["attention_bias"] = 1 }
    }

    /// Sizes whose products overflow Int are refused here; they used to trap in the weight loader.
    func testSizesTooLargeForAnyTensor() {
        assertConfigError("num_attention_heads", contains: "too large for any tensor") {
            $0["num_attention_heads"] = 1 << 62; $0["num_key_value_heads"] = 1 << 62; $0["layer_types"] = nil
        }
        assertConfigError("vocab_size", contains: "vocab_size (4611686018427387904) × hidden_size (2880)") {
            $0["vocab_size"] = 1 << 62
        }
        assertConfigError("num_local_experts", contains: "too large for any tensor") { $0["num_local_experts"] = 1 << 58 }
    }

    func testMalformedJSON() {
        XCTAssertThrowsError(try ModelConfig.decode(Data("{\"hidden_size\": ".utf8), file: "x/config.json")) { e in
            XCTAssertTrue("\(e)".hasPrefix("x/config.json: not valid JSON"), "\(e)")
        }
    }
}
