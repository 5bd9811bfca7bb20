// The openai `original/` layout (spec §2.3): fused qkv, block.N.* names, original config keys. A
// fixture model rewritten in that layout must give bit-identical logits to its HF layout.
import XCTest
import Foundation
@testable import Core
@testable import CPUBackend

final class OriginalLayoutTests: XCTestCase {
    func testOriginalLayoutMatchesHFLayout() throws {
        let hf = try Checkpoint(directory: Fixtures.dir("tiny-b"))
        let c = hf.config
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("original-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rs = try XCTUnwrap(c.ropeScaling)
        let config = """
        {"num_hidden_layers": \(c.numHiddenLayers), "num_experts": \(c.numLocalExperts), "experts_per_token": \(c.numExpertsPerTok),
         "vocab_size": \(c.vocabSize), "hidden_size": \(c.hiddenSize), "intermediate_size": \(c.intermediateSize),
         "swiglu_limit": \(c.swigluLimit), "head_dim": \(c.headDim), "num_attention_heads": \(c.numAttentionHeads),
         "num_key_value_heads": \(c.numKeyValueHeads), "sliding_window": \(c.slidingWindow),
         "initial_context_length": \(rs.originalMaxPositionEmbeddings!), "rope_theta": \(c.ropeTheta),
         "rope_scaling_factor": \(rs.factor), "rope_ntk_alpha": \(rs.betaSlow), "rope_ntk_beta": \(rs.betaFast)}
        """
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))

        // (new name, parts concatenated along dim 0, dtype, shape)
        var plan = SafetensorsWriterPlan()
        var sources: [[String]] = []
        func add(_ name: String, _ parts: [String]) throws {
            let infos = try parts.map { try hf.tensor($0).info }
            var shape = infos[0].shape
            shape[0] = infos.reduce(0) { $0 + $1.shape[0] }
            plan.add(name, infos[0].dtype, shape)
            sources.append(parts)
        }
        try add("embedding.weight", ["model.embed_tokens.weight"])
        for l in 0..<c.numHiddenLayers {
            let p = "model.layers.\(l).", o = "block.\(l)."
            try add(o + "attn.norm.scale", [p + "input_layernorm.weight"])
            try add(o + "attn.qkv.weight", ["q", "k", "v"].map { p + "self_attn.\($0)_proj.weight" })
            try add(o + "attn.qkv.bias", ["q", "k", "v"].map { p + "self_attn.\($0)_proj.bias" })
            try add(o + "attn.sinks", [p + "self_attn.sinks"])
            try add(o + "attn.out.weight", [p + "self_attn.o_proj.weight"])
            try add(o + "attn.out.bias", [p + "self_attn.o_proj.bias"])
            try add(o + "mlp.norm.scale", [p + "post_attention_layernorm.weight"])
            try add(o + "mlp.gate.weight", [p + "mlp.router.weight"])
            try add(o + "mlp.gate.bias", [p + "mlp.router.bias"])
            try add(o + "mlp.mlp1_weight.blocks", [p + "mlp.experts.gate_up_proj_blocks"])
            try add(o + "mlp.mlp1_weight.scales", [p + "mlp.experts.gate_up_proj_scales"])
            try add(o + "mlp.mlp1_bias", [p + "mlp.experts.gate_up_proj_bias"])
            try add(o + "mlp.mlp2_weight.blocks", [p + "mlp.experts.down_proj_blocks"])
            try add(o + "mlp.mlp2_weight.scales", [p + "mlp.experts.down_proj_scales"])
            try add(o + "mlp.mlp2_bias", [p + "mlp.experts.down_proj_bias"])
        }
        try add("norm.scale", ["model.norm.weight"])
        try add("unembedding.weight", ["lm_head.weight"])
        var bytes = Data(plan.header())
        for parts in sources { for name in parts { bytes.append(contentsOf: try hf.tensor(name).bytes) } }
        try bytes.write(to: dir.appendingPathComponent("model.safetensors"))

        let original = try ModelWeights.load(directory: dir)
        XCTAssertEqual(original.checkpoint.layout, .original)
        XCTAssertEqual(original.config.numLocalExperts, c.numLocalExperts)
        let tokens = try Fixtures.cases("tiny-b").cases.last!.prompt_ids
        func logits(_ w: ModelWeights) throws -> [Float] {
            let b = CPUBackend(weights: w, maxSlots: 1, maxContext: 64, threads: 2)
            let slot = try b.allocateSlot()
            return try b.step([SequenceStep(slot: slot, tokens: tokens, startPosition: 0, logits: .all)])[0].logits
        }
        XCTAssertEqual(try logits(original), try logits(try ModelWeights(checkpoint: hf)))
    }
}
