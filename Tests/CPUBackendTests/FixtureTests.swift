// The CPU forward pass against transformers' GptOssForCausalLM (fp32, eager) on the tiny fixture
// models of Tests/Fixtures/models (see its README): logits at every prompt position, greedy
// continuations with KV-cached decoding, and the logits of every decode step.
// Tolerance: max|Δlogit| ≤ 1e-4 · max|ref| over each case (the fixtures' own fp32-vs-float64 noise
// is ≤ 1.6e-6 relative).
import XCTest
import Foundation
@testable import Core
@testable import CPUBackend

struct FixtureCase: Decodable {
    var name: String
    var prompt_ids: [Int32]
    var logits_file: String
    var logits_shape: [Int]
    var greedy_ids: [Int32]
    var greedy_logits_file: String
    var greedy_logits_shape: [Int]
}
struct FixtureCases: Decodable { var model: String; var cases: [FixtureCase] }

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")
    static let models = ["tiny-a", "tiny-b", "tiny-c"]

    static func dir(_ model: String) -> URL { root.appendingPathComponent(model) }
    static func cases(_ model: String) throws -> FixtureCases {
        try JSONDecoder().decode(FixtureCases.self, from: Data(contentsOf: dir(model).appendingPathComponent("reference/cases.json")))
    }
    static func floats(_ model: String, _ file: String) throws -> [Float] {
        let data = try Data(contentsOf: dir(model).appendingPathComponent("reference").appendingPathComponent(file))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}

/// max|a − b| / max|b|, asserting equal sizes.
func relativeMaxError(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    var maxDiff: Float = 0, maxRef: Float = 0
    for i in 0..<min(a.count, b.count) {
        maxDiff = max(maxDiff, abs(a[i] - b[i]))
        maxRef = max(maxRef, abs(b[i]))
    }
    return maxDiff / max(maxRef, 1e-30)
}

final class FixtureTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func testFullPassLogitsAtEveryPosition() throws {
        for model in Fixtures.models {
            let backend = try CPUBackend(modelDirectory: Fixtures.dir(model), maxSlots: 1, maxContext: 64, threads: 2)
            for c in try Fixtures.cases(model).cases {
                let slot = try backend.allocateSlot()
                let r = try backend.step([SequenceStep(slot: slot, tokens: c.prompt_ids, startPosition: 0, logits: .all)])[0]
                backend.freeSlot(slot)
                let ref = try Fixtures.floats(model, c.logits_file)
                XCTAssertEqual(c.logits_shape, [c.prompt_ids.count, backend.config.vocabSize])
                let err = relativeMaxError(r.logits, ref)
                XCTAssertLessThanOrEqual(err, Self.tolerance, "\(model)/\(c.name): max|Δ|/max|ref| = \(err)")
                print("fixture \(model)/\(c.name) full pass: max|Δ|/max|ref| = \(err)")
                XCTAssertEqual(r.token, c.greedy_ids[0], "\(model)/\(c.name): first greedy token")
            }
        }
    }

    func testGreedyContinuationWithKVCache() throws {
        for model in Fixtures.models {
            let backend = try CPUBackend(modelDirectory: Fixtures.dir(model), maxSlots: 1, maxContext: 64, threads: 2)
            for c in try Fixtures.cases(model).cases {
                let slot = try backend.allocateSlot()
                defer { backend.freeSlot(slot) }
                let ref = try Fixtures.floats(model, c.greedy_logits_file)
                let V = backend.config.vocabSize
                var tokens: [Int32] = []
                var worst: Float = 0
                var r = try backend.step([SequenceStep(slot: slot, tokens: c.prompt_ids, startPosition: 0, logits: .last)])[0]
                var stepLogits = r.logits
                for i in 0..<c.greedy_ids.count {
                    let err = relativeMaxError(stepLogits, Array(ref[(i * V)..<((i + 1) * V)]))
                    XCTAssertLessThanOrEqual(err, Self.tolerance, "\(model)/\(c.name) step \(i): \(err)")
                    worst = max(worst, err)
                    tokens.append(r.token)
                    if i + 1 < c.greedy_ids.count {
                        r = try backend.step([SequenceStep(slot: slot, tokens: [r.token], startPosition: c.prompt_ids.count + i,
                                                           logits: .last)])[0]
                        stepLogits = r.logits
                    }
                }
                XCTAssertEqual(tokens, c.greedy_ids, "\(model)/\(c.name)")
                print("fixture \(model)/\(c.name) KV-cached decode: worst max|Δ|/max|ref| = \(worst)")
            }
        }
    }
}
