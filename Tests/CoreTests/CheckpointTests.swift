// Loading a checkpoint directory (synthetic tiny model in the real format) and every bad-input case
// of issue 2: missing config or shard, truncated file, header offsets overlapping or past EOF, wrong
// shape or dtype, unknown dtype, bad JSON — each a typed error naming the file and tensor.
import XCTest
@testable import Core

final class CheckpointTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try SyntheticCheckpoint.write(config: SyntheticCheckpoint.config(.tiny), to: dir, seed: 1)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testLoadsShardedSyntheticCheckpoint() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(names, ["config.json", "model-00000-of-00001.safetensors", "model-00001-of-00001.safetensors",
                               "model.safetensors.index.json"])
        let w = try ModelWeights.load(directory: dir)
        let c = w.config
        XCTAssertEqual(c, SyntheticCheckpoint.config(.tiny))
        XCTAssertEqual(w.layers.count, 3)
        XCTAssertEqual(w.embedding.shape, [512, 64])
        XCTAssertEqual(w.layers[1].q.shape, [64, 64])
        XCTAssertEqual(w.layers[1].k.shape, [32, 64])
        XCTAssertEqual(w.layers[2].experts.gateUp.rows, 128)
        XCTAssertEqual(w.layers[2].experts.down.cols, 64)
        XCTAssertTrue(w.layers[0].isSliding); XCTAssertFalse(w.layers[1].isSliding)
        XCTAssertEqual(w.checkpoint.tensorNames.count, 3 + 3 * 19)
        // Views point into the mappings (no copies).
        let t = try w.checkpoint.tensor("lm_head.weight")
        XCTAssertEqual(UnsafeRawPointer(w.lmHead.pointer), t.bytes.baseAddress)
        XCTAssertEqual(w.lmHead.bytes.count, 512 * 64 * 2)
        XCTAssertEqual(w.layers[0].experts.gateUp.blockBytes.count, 4 * 128 * 64 / 2)
        XCTAssertEqual(w.layers[0].experts.gateUp.scaleBytes.baseAddress,
                       try w.checkpoint.tensor("model.layers.0.mlp.experts.gate_up_proj_scales").bytes.baseAddress)
        // Values are O(1) and finite.
        let norm = w.layers[0].inputNorm.floats()
        XCTAssertTrue(norm.allSatisfy { $0 > 0.8 && $0 < 1.2 })
        var row = [Float](repeating: 0, count: 64)
        w.layers[0].experts.down.dequantizeRow(expert: 3, row: 5, into: &row)
        XCTAssertTrue(row.allSatisfy { $0.isFinite && abs($0) < 1 })
        // Deterministic in the seed.
        let dir2 = dir.appendingPathExtension("b")
        defer { try? FileManager.default.removeItem(at: dir2) }
        try SyntheticCheckpoint.write(config: c, to: dir2, seed: 1)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("model-00001-of-00001.safetensors")),
                       try Data(contentsOf: dir2.appendingPathComponent("model-00001-of-00001.safetensors")))
    }

    func testSingleFileCheckpoint() throws {
        let single = FileManager.default.temporaryDirectory.appendingPathComponent("single-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: single) }
        try SyntheticCheckpoint.write(config: SyntheticCheckpoint.config(.tiny), to: single, seed: 1, maxShardBytes: 1 << 40)
        try FileManager.default.removeItem(at: single.appendingPathComponent("model.safetensors.index.json"))
        try FileManager.default.moveItem(at: single.appendingPathComponent("model-00000-of-00000.safetensors"),
                                         to: single.appendingPathComponent("model.safetensors"))
        let w = try ModelWeights.load(directory: single)
        XCTAssertEqual(w.checkpoint.files.count, 1)
        XCTAssertEqual(w.layers.count, 3)
    }

    // MARK: Bad input

    private func expectError(_ check: (CheckpointError) -> Bool, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelWeights.load(directory: dir), file: file, line: line) { error in
            guard let e = error as? CheckpointError else { return XCTFail("unexpected \(error)", file: file, line: line) }
            XCTAssertTrue(check(e), "\(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(text), "\(e.description)", file: file, line: line)
        }
    }

    private var shard0: URL { dir.appendingPathComponent("model-00000-of-00001.safetensors") }
    private var shard1: URL { dir.appendingPathComponent("model-00001-of-00001.safetensors") }

    /// Rewrites the JSON header of a shard (keeping the data) with `edit` applied to its entries.
    private func editHeader(_ url: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let data = try Data(contentsOf: url)
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        edit(&header)
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) })
        out.append(json); out.append(data.subdata(in: (8 + n)..<data.count))
        try out.write(to: url)
    }

    func testMissingConfig() throws {
        try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
        expectError({ if case .fileMissing(let f, _) = $0 { return f.hasSuffix("config.json") }; return false }, "config.json: file not found")
    }

    /// A directory that cannot be created is a CheckpointError naming it, not a raw Cocoa error.
    func testSyntheticWriteIntoAFileIsAClearError() throws {
        let target = dir.appendingPathComponent("config.json/sub")   // config.json is a regular file
        XCTAssertThrowsError(try SyntheticCheckpoint.write(config: SyntheticCheckpoint.config(.tiny), to: target)) { error in
            guard case .io(let file, let reason) = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, target.path)
            XCTAssertEqual(reason, "cannot create the directory: Not a directory")
        }
    }

    func testMissingShard() throws {
        try FileManager.default.removeItem(at: shard1)
        expectError({ if case .fileMissing(let f, _) = $0 { return f == self.shard1.path }; return false },
                    "listed in model.safetensors.index.json")
    }

    func testTruncatedShard() throws {
        let data = try Data(contentsOf: shard1)
        try data.prefix(data.count - 100).write(to: shard1)
        expectError({ if case .badTensor(let f, _, _) = $0 { return f == self.shard1.path }; return false }, "run past the end of the file")
    }

    func testTruncatedHeader() throws {
        let data = try Data(contentsOf: shard0)
        try data.prefix(200).write(to: shard0)
        expectError({ if case .badHeader(let f, _) = $0 { return f == self.shard0.path }; return false }, "header length")
    }

    func testGarbageHeader() throws {
        var data = try Data(contentsOf: shard0)
        data.replaceSubrange(8..<16, with: Array("not json".utf8))
        try data.write(to: shard0)
        expectError({ if case .badHeader = $0 { return true }; return false }, "not valid JSON")
    }

    func testOverlappingOffsets() throws {
        try editHeader(shard0) { h in
            var e = h["model.layers.0.self_attn.k_proj.weight"] as! [String: Any]
            let q = (h["model.layers.0.self_attn.q_proj.weight"] as! [String: Any])["data_offsets"] as! [Int]
            e["data_offsets"] = [q[0], q[0] + 32 * 64 * 2]
            h["model.layers.0.self_attn.k_proj.weight"] = e
        }
        expectError({ if case .badTensor(_, let t, _) = $0 { return t.contains("model.layers.0.self_attn") }; return false }, "overlap")
    }

    func testSizeDisagreesWithShape() throws {
        try editHeader(shard0) { h in
            var e = h["model.norm.weight"] as? [String: Any] ?? h["model.layers.0.input_layernorm.weight"] as! [String: Any]
            e["shape"] = [65]
            h["model.layers.0.input_layernorm.weight"] = e
        }
        expectError({ if case .badTensor(_, "model.layers.0.input_layernorm.weight", _) = $0 { return true }; return false }, "needs 130")
    }

    func testUnknownDType() throws {
        try editHeader(shard0) { h in
            var e = h["model.layers.0.self_attn.sinks"] as! [String: Any]
            e["dtype"] = "Q4_K"
            h["model.layers.0.self_attn.sinks"] = e
        }
        expectError({ if case .badTensor(_, "model.layers.0.self_attn.sinks", _) = $0 { return true }; return false }, "unknown dtype 'Q4_K'")
    }

    func testWrongShapeForConfig() throws {
        // A consistent header, but the config asks for 8 heads of 8: k_proj should be [16, 64].
        var cfg = SyntheticCheckpoint.config(.tiny)
        cfg.numAttentionHeads = 8
        cfg.headDim = 8
        try cfg.jsonData().write(to: dir.appendingPathComponent("config.json"))
        expectError({ if case .wrongShape(let f, "model.layers.0.self_attn.k_proj.weight", [16, 64], [32, 64]) = $0 { return f == self.shard0.path }; return false },
                    "model.layers.0.self_attn.k_proj.weight' has shape [32, 64], expected [16, 64]")
    }

    func testWrongShapeNamesTensorAndFile() throws {
        var cfg = SyntheticCheckpoint.config(.tiny)
        cfg.vocabSize = 500
        try cfg.jsonData().write(to: dir.appendingPathComponent("config.json"))
        expectError({ if case .wrongShape(let f, "model.embed_tokens.weight", [500, 64], [512, 64]) = $0 { return f == self.shard0.path }; return false },
                    "expected [500, 64]")
    }

    func testWrongDType() throws {
        try editHeader(shard0) { h in
            var e = h["model.layers.0.self_attn.sinks"] as! [String: Any]
            e["dtype"] = "F16"
            h["model.layers.0.self_attn.sinks"] = e
        }
        expectError({ if case .wrongDType(_, "model.layers.0.self_attn.sinks", "BF16", "F16") = $0 { return true }; return false }, "dtype F16, expected BF16")
    }

    func testUnknownQuantizationMethod() throws {
        var cfg = SyntheticCheckpoint.config(.tiny)
        cfg.quantization = QuantizationConfig(quantMethod: "awq")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: cfg.jsonData())), as: UTF8.self)
        try Data(json.utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ModelWeights.load(directory: dir)) { error in
            let e = error as? ConfigError
            XCTAssertEqual(e?.field, "quantization_config.quant_method")
            XCTAssertEqual(e?.file, self.dir.appendingPathComponent("config.json").path)
            XCTAssertTrue("\(error)".contains("unknown quantization method 'awq'"))
        }
    }

    func testIndexPointsToWrongShard() throws {
        let url = dir.appendingPathComponent("model.safetensors.index.json")
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"lm_head.weight\": \"model-00001-of-00001.safetensors\"",
                                         with: "\"lm_head.weight\": \"model-00000-of-00001.safetensors\"")
        try text.write(to: url, atomically: true, encoding: .utf8)
        expectError({ if case .badIndex = $0 { return true }; return false }, "'lm_head.weight' is mapped to model-00000-of-00001.safetensors")
    }

    func testMissingTensor() throws {
        try editHeader(shard0) { h in h["model.layers.0.self_attn.sinks"] = nil }
        let url = dir.appendingPathComponent("model.safetensors.index.json")
        let text = try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "\"model.layers.0.self_attn.sinks\": \"model-00000-of-00001.safetensors\",\n", with: "")
        try text.write(to: url, atomically: true, encoding: .utf8)
        expectError({ if case .tensorMissing("model.layers.0.self_attn.sinks", _) = $0 { return true }; return false }, "not found")
    }
}

/// Real-size configurations: sparse files (headers + ftruncate, no data on disk) at the exact 20b
/// and 120b shapes load and validate, with the tensor counts and byte totals of spec §2.1 / §7.1.
final class RealShapeTests: XCTestCase {
    func testRealShapesLoad() throws {
        for (config, tensors, bytes) in [(ModelConfig.gptOss20b, 459, 13_761_264_768), (ModelConfig.gptOss120b, 687, 65_248_815_744)] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sparse-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let written = try SyntheticCheckpoint.write(config: config, to: dir, sparse: true)
            XCTAssertEqual(written, bytes)
            let w = try ModelWeights.load(directory: dir)
            XCTAssertEqual(w.config, config)
            XCTAssertEqual(w.checkpoint.tensorNames.count, tensors)
            XCTAssertEqual(w.checkpoint.totalTensorBytes, bytes)
            XCTAssertEqual(w.layers.count, config.numHiddenLayers)
            XCTAssertEqual(w.layers[0].experts.gateUp.blockBytes.count, config.numLocalExperts * 5760 * 90 * 16)
            XCTAssertEqual(w.layers[0].q.shape, [4096, 2880])
            XCTAssertGreaterThan(w.checkpoint.files.count, 2)
        }
    }
}
