// Engine scheduler tests against the deterministic StubBackend: ordering, batching, chunked prefill,
// queueing, cancellation, limits, stop tokens, failures, metrics, and batch == single runs.
import Core
@testable import Engine
import XCTest

final class EngineTests: XCTestCase {
    private func prompt(_ n: Int, seed: Int32 = 1) -> [Int32] { (0 ..< Int32(n)).map { ($0 * 7 + seed * 13) % 1000 } }

    /// What the stub produces for one request run alone.
    private func reference(_ prompt: [Int32], _ p: SamplingParams = .greedy, count: Int) -> [Int32] {
        var history = prompt
        var out: [Int32] = []
        for i in 0 ..< count {
            let t = StubBackend.next(history, p, UInt64(i), vocab: 1000)
            out.append(t); history.append(t)
        }
        return out
    }

    private func collect(_ stream: GenerationStream) async throws -> (tokens: [Int32], summary: GenerationSummary, events: Int) {
        var tokens: [Int32] = []
        var events = 0
        for try await event in stream {
            events += 1
            switch event {
            case .tokens(let t): tokens += t
            case .finished(let s): return (tokens, s, events)
            }
        }
        XCTFail("stream ended without .finished")
        throw CancellationError()
    }

    func testSingleRequestStreamsTokensInOrderAndFinishesByLength() async throws {
        let engine = Engine(backend: StubBackend())
        defer { engine.shutdown() }
        let p = prompt(5)
        let stream = try engine.submit(GenerationRequest(promptTokens: p, maxTokens: 8))
        let r = try await collect(stream)
        XCTAssertEqual(r.tokens, reference(p, count: 8))
        XCTAssertEqual(r.events, 9, "one .tokens event per sampled token, then .finished")
        XCTAssertEqual(r.summary.reason, .length)
        XCTAssertEqual(r.summary.usage, Usage(promptTokens: 5, completionTokens: 8))
        XCTAssertEqual(r.summary.usage.totalTokens, 13)
        XCTAssertNil(r.summary.stopToken)
        XCTAssertNotNil(r.summary.timings.timeToFirstTokenSeconds)
    }

    func testStopTokenEndsRequestAndIsStreamed() async throws {
        let engine = Engine(backend: StubBackend())
        defer { engine.shutdown() }
        let p = prompt(6)
        let ref = reference(p, count: 12)
        let stop = ref[4]
        let firstStop = ref.firstIndex(of: stop)!
        let r = try await engine.generate(GenerationRequest(promptTokens: p, maxTokens: 12, stopTokens: [stop, -5]))
        XCTAssertEqual(r.tokens, Array(ref[...firstStop]))
        XCTAssertEqual(r.summary.reason, .stop)
        XCTAssertEqual(r.summary.stopToken, stop)
        XCTAssertEqual(r.summary.usage.completionTokens, firstStop + 1)
    }

    func testMaxTokensZeroFinishesWithoutTouchingTheBackend() async throws {
        let backend = StubBackend()
        let engine = Engine(backend: backend)
        defer { engine.shutdown() }
        let r = try await engine.generate(GenerationRequest(promptTokens: prompt(3), maxTokens: 0))
        XCTAssertEqual(r.tokens, [])
        XCTAssertEqual(r.summary.reason, .length)
        XCTAssertEqual(r.summary.usage, Usage(promptTokens: 3, completionTokens: 0))
        XCTAssertTrue(backend.log.isEmpty)
    }

    func testContextLimitCapsGeneration() async throws {
        let engine = Engine(backend: StubBackend(maxContext: 16))
        defer { engine.shutdown() }
        let p = prompt(10)
        let r = try await engine.generate(GenerationRequest(promptTokens: p, maxTokens: 100))
        XCTAssertEqual(r.tokens, reference(p, count: 6))
        XCTAssertEqual(r.summary.reason, .length)
    }

    func testInvalidRequestsAreRejectedWithClearErrors() throws {
        let engine = Engine(backend: StubBackend(vocabSize: 1000, maxContext: 8))
        defer { engine.shutdown() }
        XCTAssertThrowsError(try engine.submit(GenerationRequest(promptTokens: [], maxTokens: 4))) {
            XCTAssertEqual($0 as? EngineError, .emptyPrompt)
        }
        XCTAssertThrowsError(try engine.submit(GenerationRequest(promptTokens: [1, 2], maxTokens: -1))) {
            XCTAssertEqual($0 as? EngineError, .invalidMaxTokens(-1))
            XCTAssertEqual(String(describing: $0), "max tokens must be 0 or more, got -1")
        }
        XCTAssertThrowsError(try engine.submit(GenerationRequest(promptTokens: Array(repeating: 1, count: 8), maxTokens: 1))) {
            XCTAssertEqual($0 as? EngineError, .promptTooLong(promptTokens: 8, maxContext: 8))
        }
        XCTAssertThrowsError(try engine.submit(GenerationRequest(promptTokens: [1, 1000], maxTokens: 1))) {
            XCTAssertEqual($0 as? EngineError, .tokenOutOfRange(token: 1000, index: 1, vocabSize: 1000))
        }
        XCTAssertEqual(engine.metrics().requestsRejected, 4)
        XCTAssertEqual(engine.metrics().requestsSubmitted, 0)
    }

    func testChunkedPrefillFeedsPositionsContiguouslyAndMatchesUnchunked() async throws {
        let backend = StubBackend()
        let engine = Engine(backend: backend, options: EngineOptions(maxStepTokens: 64, prefillChunk: 4))
        defer { engine.shutdown() }
        let p = prompt(10)
        let r = try await engine.generate(GenerationRequest(promptTokens: p, maxTokens: 3))
        XCTAssertEqual(r.tokens, reference(p, count: 3))
        let steps = backend.batches.map { $0[0] }
        XCTAssertEqual(steps.map(\.tokens.count), [4, 4, 2, 1, 1])
        XCTAssertEqual(steps.map(\.startPosition), [0, 4, 8, 10, 11])
        XCTAssertEqual(steps.map(\.sampleIndex), [0, 0, 0, 1, 2])
        XCTAssertEqual(Array(steps[0 ..< 3].flatMap(\.tokens)), p)
        XCTAssertEqual(steps[3].tokens, [r.tokens[0]])
    }

    func testGreedyBatchEqualsSingleRunsAndRunsInOneStep() async throws {
        let n = 4
        let requests = (0 ..< n).map {
            GenerationRequest(promptTokens: prompt(3 + 2 * $0, seed: Int32($0)), maxTokens: 6 + $0)
        }
        // Single runs, one slot.
        let single = Engine(backend: StubBackend(maxSlots: 1))
        var expected: [[Int32]] = []
        for r in requests { expected.append(try await single.generate(r).tokens) }
        single.shutdown()

        let backend = StubBackend(maxSlots: n)
        backend.closeGate()
        let engine = Engine(backend: backend)
        defer { engine.shutdown() }
        let streams = try requests.map { try engine.submit($0) }
        backend.openGate()
        var got: [[Int32]] = []
        for s in streams { got.append(try await collect(s).tokens) }
        XCTAssertEqual(got, expected)
        for (i, r) in requests.enumerated() { XCTAssertEqual(got[i], reference(r.promptTokens, count: r.maxTokens)) }
        XCTAssertEqual(backend.batches.map(\.count).max(), n, "some step held every sequence")
    }

    func testSeededSamplingIsReproducibleAndBatchIndependent() async throws {
        let engine = Engine(backend: StubBackend())
        defer { engine.shutdown() }
        let p = prompt(4)
        let s1 = SamplingParams(temperature: 0.8, topP: 0.9, topK: 0, seed: 42)
        let a = try await engine.generate(GenerationRequest(promptTokens: p, sampling: s1, maxTokens: 10)).tokens
        let streams = try (0 ..< 3).map { _ in try engine.submit(GenerationRequest(promptTokens: p, sampling: s1, maxTokens: 10)) }
        for s in streams { let t = try await collect(s).tokens; XCTAssertEqual(t, a) }
        XCTAssertEqual(a, reference(p, s1, count: 10))
        var s2 = s1; s2.seed = 43
        let b = try await engine.generate(GenerationRequest(promptTokens: p, sampling: s2, maxTokens: 10)).tokens
        XCTAssertNotEqual(a, b)
    }

    func testRequestsQueueWhenSlotsAreFullAndRunFIFO() async throws {
        let backend = StubBackend(maxSlots: 2)
        backend.closeGate()
        let engine = Engine(backend: backend)
        defer { engine.shutdown() }
        let reqs = (0 ..< 5).map { GenerationRequest(promptTokens: prompt(3, seed: Int32($0)), maxTokens: 4) }
        let streams = try reqs.map { try engine.submit($0) }
        let queued = engine.metrics().queueLength
        XCTAssertGreaterThanOrEqual(queued, 3, "at most two requests hold slots; the rest wait")
        backend.openGate()
        for (i, s) in streams.enumerated() {
            let r = try await collect(s)
            XCTAssertEqual(r.tokens, reference(reqs[i].promptTokens, count: 4))
        }
        // Never more than two sequences in a step or holding a slot; admission in submit order.
        XCTAssertLessThanOrEqual(backend.batches.map(\.count).max()!, 2)
        var held = 0
        var firstPrompts: [[Int32]] = []
        for event in backend.log {
            switch event {
            case .alloc: held += 1; XCTAssertLessThanOrEqual(held, 2)
            case .free: held -= 1
            case .step(let b): firstPrompts += b.filter { $0.startPosition == 0 }.map(\.tokens)
            case .keep: XCTFail("prefix reuse is off by default")
            }
        }
        XCTAssertEqual(held, 0)
        XCTAssertEqual(firstPrompts, reqs.map(\.promptTokens))
        let m = engine.metrics()
        XCTAssertEqual(m.queueLength, 0)
        XCTAssertEqual(m.activeSequences, 0)
        XCTAssertEqual(m.kvTokensInUse, 0)
        XCTAssertEqual(m.requestsFinished[.length], 5)
        XCTAssertEqual(m.generatedTokens, 20)
        XCTAssertEqual(m.promptTokens, 15)
        XCTAssertEqual(m.queueWait.count, 5)
        XCTAssertEqual(m.timeToFirstToken.count, 5)
        XCTAssertEqual(m.requestLatency.count, 5)
    }

    func testCancelFreesTheSlotForTheNextRequest() async throws {
        let backend = StubBackend(maxSlots: 1)
        let engine = Engine(backend: backend)
        defer { engine.shutdown() }
        let long = try engine.submit(GenerationRequest(promptTokens: prompt(3), maxTokens: 100_000))
        let next = try engine.submit(GenerationRequest(promptTokens: prompt(4, seed: 9), maxTokens: 3))
        var sawToken = false
        var summary: GenerationSummary?
        for try await event in long {
            switch event {
            case .tokens:
                if !sawToken { sawToken = true; engine.cancel(long.id) }
            case .finished(let s): summary = s
            }
        }
        XCTAssertEqual(summary?.reason, .cancelled)
        XCTAssertGreaterThanOrEqual(summary?.usage.completionTokens ?? 0, 1)
        let r = try await collect(next)
        XCTAssertEqual(r.tokens, reference(prompt(4, seed: 9), count: 3))
        // The cancelled request's slot was freed before the next one got it.
        let kinds = backend.log.compactMap { e -> String? in
            switch e { case .alloc: return "alloc"; case .free: return "free"; case .step, .keep: return nil }
        }
        XCTAssertEqual(kinds, ["alloc", "free", "alloc", "free"])
        engine.cancel(long.id)  // finished ids are ignored
        XCTAssertEqual(engine.metrics().requestsFinished[.cancelled], 1)
    }

    func testCancellingAQueuedRequestRemovesItFromTheQueue() async throws {
        let backend = StubBackend(maxSlots: 1)
        backend.closeGate()
        let engine = Engine(backend: backend)
        defer { engine.shutdown() }
        let first = try engine.submit(GenerationRequest(promptTokens: prompt(3), maxTokens: 2))
        let queued = try engine.submit(GenerationRequest(promptTokens: prompt(3, seed: 2), maxTokens: 2))
        engine.cancel(queued.id)
        let q = try await collect(queued)
        XCTAssertEqual(q.summary.reason, .cancelled)
        XCTAssertEqual(q.tokens, [])
        backend.openGate()
        let f = try await collect(first)
        XCTAssertEqual(f.summary.reason, .length)
        XCTAssertEqual(backend.log.filter { if case .alloc = $0 { return true } else { return false } }.count, 1)
    }

    func testDroppingTheStreamCancelsTheRequest() async throws {
        let backend = StubBackend(maxSlots: 1)
        let engine = Engine(backend: backend)
        defer { engine.shutdown() }
        let long = try engine.submit(GenerationRequest(promptTokens: prompt(3), maxTokens: 100_000))
        let reader = Task {
            var n = 0
            for try await event in long {
                if case .tokens = event { n += 1 }
                if n == 2 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return n
        }
        _ = try await reader.value
        // Only a freed slot lets this one run on a one-slot engine.
        let r = try await engine.generate(GenerationRequest(promptTokens: prompt(2), maxTokens: 2))
        XCTAssertEqual(r.summary.reason, .length)
        XCTAssertEqual(engine.metrics().requestsFinished[.cancelled], 1)
    }

    func testBackendFailureFailsTheBatchAndTheEngineKeepsServing() async throws {
        let backend = StubBackend(maxSlots: 2)
        backend.failNext(1)
        let engine = Engine(backend: backend)
        defer { engine.shutdown() }
        let s = try engine.submit(GenerationRequest(promptTokens: prompt(3), maxTokens: 4))
        do {
            _ = try await collect(s)
            XCTFail("expected the stream to throw")
        } catch let error as EngineError {
            guard case .backendFailed(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("injected failure"), message)
        }
        let r = try await engine.generate(GenerationRequest(promptTokens: prompt(3), maxTokens: 4))
        XCTAssertEqual(r.tokens, reference(prompt(3), count: 4))
        XCTAssertEqual(engine.metrics().requestsFailed, 1)
        XCTAssertEqual(engine.metrics().activeSequences, 0)
    }

    func testStepTokenBudgetIsRespected() async throws {
        let backend = StubBackend(maxSlots: 3)
        backend.closeGate()
        let engine = Engine(backend: backend, options: EngineOptions(maxStepTokens: 6, prefillChunk: 4))
        defer { engine.shutdown() }
        let reqs = (0 ..< 3).map { GenerationRequest(promptTokens: prompt(9, seed: Int32($0)), maxTokens: 5) }
        let streams = try reqs.map { try engine.submit($0) }
        backend.openGate()
        for (i, s) in streams.enumerated() {
            let tokens = try await collect(s).tokens
            XCTAssertEqual(tokens, reference(reqs[i].promptTokens, count: 5))
        }
        for b in backend.batches { XCTAssertLessThanOrEqual(b.reduce(0) { $0 + $1.tokens.count }, 6) }
    }

    func testShutdownCancelsEverythingAndRejectsNewRequests() async throws {
        let backend = StubBackend(maxSlots: 1)
        let engine = Engine(backend: backend)
        let running = try engine.submit(GenerationRequest(promptTokens: prompt(3), maxTokens: 1_000_000))
        let queued = try engine.submit(GenerationRequest(promptTokens: prompt(3), maxTokens: 5))
        engine.shutdown()
        let r = try await collect(running), q = try await collect(queued)
        XCTAssertEqual(r.summary.reason, .cancelled)
        XCTAssertEqual(q.summary.reason, .cancelled)
        XCTAssertThrowsError(try engine.submit(GenerationRequest(promptTokens: [1], maxTokens: 1))) {
            XCTAssertEqual($0 as? EngineError, .shuttingDown)
        }
        let allocs = backend.log.filter { if case .alloc = $0 { return true } else { return false } }.count
        let frees = backend.log.filter { if case .free = $0 { return true } else { return false } }.count
        XCTAssertEqual(allocs, frees)
    }

    func testHistogramIsCumulative() {
        var h = LatencyHistogram(bounds: [0.1, 1])
        h.observe(0.05); h.observe(0.5); h.observe(5)
        XCTAssertEqual(h.counts, [1, 2])
        XCTAssertEqual(h.count, 3)
        XCTAssertEqual(h.sum, 5.55, accuracy: 1e-9)
    }
}
