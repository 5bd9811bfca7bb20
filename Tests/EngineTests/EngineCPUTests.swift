// The engine over the real CPU backend on the tiny-a fixture: every reference case submitted at once
// (continuous batching, prompt40 prefilled in chunks while the others decode) must reproduce the
// greedy tokens Hugging Face transformers produced for each prompt alone.
import Core
import CPUBackend
import Engine
import Foundation
import XCTest

final class EngineCPUTests: XCTestCase {
    struct Case { var name: String; var prompt: [Int32]; var greedy: [Int32] }

    private let modelDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/models/tiny-a")

    private func cases() throws -> [Case] {
        let data = try Data(contentsOf: modelDir.appendingPathComponent("reference/cases.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try XCTUnwrap(root["cases"] as? [[String: Any]])
        return try list.map {
            Case(name: try XCTUnwrap($0["name"] as? String),
                 prompt: try XCTUnwrap($0["prompt_ids"] as? [Int]).map(Int32.init),
                 greedy: try XCTUnwrap($0["greedy_ids"] as? [Int]).map(Int32.init))
        }
    }

    func testBatchedChunkedGreedyMatchesHuggingFaceSingleRuns() async throws {
        let cases = try cases()
        XCTAssertGreaterThanOrEqual(cases.count, 3)
        let backend = CPUBackend(weights: try ModelWeights.load(directory: modelDir), maxSlots: cases.count,
                                 maxContext: 128, threads: 2)
        let engine = Engine(backend: backend, options: EngineOptions(maxStepTokens: 16, prefillChunk: 7))
        defer { engine.shutdown() }
        let streams = try cases.map {
            try engine.submit(GenerationRequest(promptTokens: $0.prompt, sampling: .greedy, maxTokens: $0.greedy.count))
        }
        for (c, stream) in zip(cases, streams) {
            var tokens: [Int32] = []
            var reason: FinishReason?
            for try await event in stream {
                switch event {
                case .tokens(let t): tokens += t
                case .finished(let s): reason = s.reason
                }
            }
            XCTAssertEqual(tokens, c.greedy, c.name)
            XCTAssertEqual(reason, .length, c.name)
        }
        let m = engine.metrics()
        XCTAssertEqual(m.generatedTokens, UInt64(cases.reduce(0) { $0 + $1.greedy.count }))
        XCTAssertEqual(m.activeSequences, 0)
    }

    /// Prefix reuse over the real CPU backend: a second turn that extends the first (prompt, two of its
    /// answer tokens, then new text) is fed only the new tokens and samples what a fresh prefill samples.
    func testPrefixReuseGivesTheTokensOfAFreshPrefill() async throws {
        let cases = try cases()
        let weights = try ModelWeights.load(directory: modelDir)
        func run(_ engine: Engine, _ prompt: [Int32]) async throws -> [Int32] {
            var tokens: [Int32] = []
            for try await event in try engine.submit(GenerationRequest(promptTokens: prompt, sampling: .greedy, maxTokens: 4)) {
                if case .tokens(let t) = event { tokens += t }
            }
            return tokens
        }
        let reusing = Engine(backend: CPUBackend(weights: weights, maxSlots: 1, maxContext: 128, threads: 2, fullSlidingCache: true),
                             options: EngineOptions(prefillChunk: 7, reusePrefixes: true))
        defer { reusing.shutdown() }
        let first = try await run(reusing, cases[0].prompt)
        XCTAssertEqual(first, Array(cases[0].greedy.prefix(4)))
        let second = cases[0].prompt + first.prefix(2) + cases[1].prompt
        let reused = try await run(reusing, second)
        XCTAssertEqual(reusing.metrics().promptTokensReused, UInt64(cases[0].prompt.count + 2))

        let fresh = Engine(backend: CPUBackend(weights: weights, maxSlots: 1, maxContext: 128, threads: 2),
                           options: EngineOptions(prefillChunk: 7))
        defer { fresh.shutdown() }
        let expected = try await run(fresh, second)
        XCTAssertEqual(reused, expected)
        XCTAssertEqual(fresh.metrics().promptTokensReused, 0)
    }
}
