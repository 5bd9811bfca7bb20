// Prefix reuse (EngineOptions.reusePrefixes) against the StubBackend: a finished sequence's slot is kept
// with its tokens, the next request sharing a prefix takes it over and is fed only the rest, the result
// equals a fresh run, and kept slots give way (oldest first) when a request needs a slot.
import Core
@testable import Engine
import XCTest

final class PrefixReuseTests: XCTestCase {
    private func prompt(_ n: Int, seed: Int32 = 1) -> [Int32] { (0 ..< Int32(n)).map { ($0 * 7 + seed * 13) % 1000 } }

    private func reference(_ prompt: [Int32], count: Int) -> [Int32] {
        var history = prompt
        var out: [Int32] = []
        for i in 0 ..< count {
            let t = StubBackend.next(history, .greedy, UInt64(i), vocab: 1000)
            out.append(t); history.append(t)
        }
        return out
    }

    private func run(_ engine: Engine, _ prompt: [Int32], maxTokens: Int) async throws -> [Int32] {
        var tokens: [Int32] = []
        for try await event in try engine.submit(GenerationRequest(promptTokens: prompt, maxTokens: maxTokens)) {
            if case .tokens(let t) = event { tokens += t }
        }
        return tokens
    }

    private func firstSteps(_ backend: StubBackend) -> [SequenceStep] { backend.batches.map { $0[0] } }

    func testSecondTurnIsFedOnlyItsNewTokensAndMatchesAFreshRun() async throws {
        let backend = StubBackend(maxSlots: 2)
        let engine = Engine(backend: backend, options: EngineOptions(reusePrefixes: true))
        defer { engine.shutdown() }
        let p1 = prompt(5)
        let t1 = try await run(engine, p1, maxTokens: 3)
        XCTAssertEqual(t1, reference(p1, count: 3))
        // The slot holds p1 + t1[0], t1[1] (the last sample was never fed back).
        let p2 = p1 + t1.prefix(2) + [7, 8]
        let t2 = try await run(engine, p2, maxTokens: 2)
        XCTAssertEqual(t2, reference(p2, count: 2), "same tokens as a run from an empty cache")
        let allocs = backend.log.compactMap { if case .alloc(let s) = $0 { return s } else { return nil } }
        XCTAssertEqual(allocs.count, 1, "the second turn took the kept slot over")
        XCTAssertTrue(backend.log.contains { if case .keep(allocs[0], 7) = $0 { return true } else { return false } })
        let turn2 = firstSteps(backend).first { $0.startPosition == 7 }
        XCTAssertEqual(turn2?.tokens, [7, 8])
        XCTAssertEqual(engine.metrics().promptTokensReused, 7)
    }

    func testADivergingPromptReusesOnlyTheCommonPrefixAndAlwaysFeedsOneToken() async throws {
        let backend = StubBackend(maxSlots: 1)
        let engine = Engine(backend: backend, options: EngineOptions(reusePrefixes: true))
        defer { engine.shutdown() }
        let p1 = prompt(6)
        _ = try await run(engine, p1, maxTokens: 2)
        let p2 = Array(p1.prefix(3)) + [999, 998]
        let t2 = try await run(engine, p2, maxTokens: 2)
        XCTAssertEqual(t2, reference(p2, count: 2))
        XCTAssertTrue(backend.log.contains { if case .keep(_, 3) = $0 { return true } else { return false } })
        // A prompt the cache holds entirely still feeds its last token (it yields the first sample).
        let p3 = Array(p2.prefix(4))
        let t3 = try await run(engine, p3, maxTokens: 1)
        XCTAssertEqual(t3, reference(p3, count: 1))
        XCTAssertTrue(backend.log.contains { if case .keep(_, 3) = $0 { return true } else { return false } })
        XCTAssertEqual(firstSteps(backend).last?.tokens.count, 1)
        XCTAssertEqual(engine.metrics().promptTokensReused, 6)
    }

    func testKeptSlotsAreFreedOldestFirstWhenARequestNeedsOne() async throws {
        let backend = StubBackend(maxSlots: 2)
        let engine = Engine(backend: backend, options: EngineOptions(reusePrefixes: true))
        defer { engine.shutdown() }
        let a = prompt(4, seed: 1), b = prompt(4, seed: 2), c = prompt(4, seed: 3)
        _ = try await run(engine, a, maxTokens: 2)
        _ = try await run(engine, b, maxTokens: 2)   // no common prefix with a: a second slot
        // Both slots are kept; c shares nothing, so the oldest (a's) is freed for it.
        let tc = try await run(engine, c, maxTokens: 2)
        XCTAssertEqual(tc, reference(c, count: 2))
        let events = backend.log.compactMap { e -> String? in
            switch e {
            case .alloc(let s): return "alloc \(s)"
            case .free(let s): return "free \(s)"
            case .keep(let s, let n): return "keep \(s) \(n)"
            case .step: return nil
            }
        }
        XCTAssertEqual(events, ["alloc 0", "alloc 1", "free 0", "alloc 0"])
        // b's kept slot still serves a continuation of b.
        let b2 = b + [5]
        let tb2 = try await run(engine, b2, maxTokens: 1)
        XCTAssertEqual(tb2, reference(b2, count: 1))
        XCTAssertTrue(backend.log.contains { if case .keep(1, 4) = $0 { return true } else { return false } })
    }
}
