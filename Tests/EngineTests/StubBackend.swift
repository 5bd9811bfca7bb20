// A deterministic Backend for engine tests: each slot keeps its token history (checking that the engine
// feeds positions contiguously), the "sampled" token is a hash of the slot's history (plus seed and
// sample index when not greedy), and every alloc / step / free is logged for ordering assertions.
// A gate can hold steps until a test has submitted everything it wants batched together.
import Core
import Foundation

final class StubBackend: Backend, @unchecked Sendable {
    enum Event {
        case alloc(Int)
        case free(Int)
        case keep(Int, Int)   // slot, tokens kept (prefix reuse)
        case step([SequenceStep])
    }
    struct StubError: Error, CustomStringConvertible { var description: String }

    let config: ModelConfig
    let name = "stub"
    let maxSlots: Int
    let maxContext: Int

    private let cond = NSCondition()
    private var histories: [Int: [Int32]] = [:]   // slot -> tokens in its "KV cache"
    private var freeSlots: [Int]
    private var gateOpen = true
    private var failSteps = 0
    private var _log: [Event] = []

    init(vocabSize: Int = 1000, maxSlots: Int = 4, maxContext: Int = 4096) {
        var config = SyntheticCheckpoint.config(.tiny)
        config.vocabSize = vocabSize
        self.config = config
        self.maxSlots = maxSlots; self.maxContext = maxContext
        self.freeSlots = Array((0 ..< maxSlots).reversed())
    }

    var log: [Event] { cond.lock(); defer { cond.unlock() }; return _log }
    var batches: [[SequenceStep]] {
        log.compactMap { if case .step(let b) = $0 { return b } else { return nil } }
    }
    func closeGate() { cond.lock(); gateOpen = false; cond.unlock() }
    func openGate() { cond.lock(); gateOpen = true; cond.broadcast(); cond.unlock() }
    /// The next `n` steps throw.
    func failNext(_ n: Int) { cond.lock(); failSteps = n; cond.unlock() }

    func allocateSlot() throws -> Int {
        cond.lock(); defer { cond.unlock() }
        guard let slot = freeSlots.popLast() else { throw StubError(description: "no free slot") }
        histories[slot] = []
        _log.append(.alloc(slot))
        return slot
    }

    func freeSlot(_ slot: Int) {
        cond.lock(); defer { cond.unlock() }
        histories[slot] = nil
        freeSlots.append(slot)
        _log.append(.free(slot))
    }

    func keepPrefix(ofSlot slot: Int, length: Int) -> Int {
        cond.lock(); defer { cond.unlock() }
        guard let history = histories[slot] else { return 0 }
        let kept = min(max(0, length), history.count)
        histories[slot] = Array(history.prefix(kept))
        _log.append(.keep(slot, kept))
        return kept
    }

    func step(_ batch: [SequenceStep]) throws -> [SequenceResult] {
        cond.lock(); defer { cond.unlock() }
        while !gateOpen { cond.wait() }
        _log.append(.step(batch))
        if failSteps > 0 { failSteps -= 1; throw StubError(description: "injected failure") }
        var results: [SequenceResult] = []
        for s in batch {
            guard var history = histories[s.slot] else { throw StubError(description: "slot \(s.slot) not allocated") }
            guard s.startPosition == history.count else {
                throw StubError(description: "slot \(s.slot): start \(s.startPosition) but \(history.count) cached")
            }
            guard history.count + s.tokens.count <= maxContext else { throw StubError(description: "context overflow") }
            history += s.tokens
            histories[s.slot] = history
            results.append(SequenceResult(token: Self.next(history, s.sampling, s.sampleIndex, vocab: config.vocabSize)))
        }
        return results
    }

    /// The stub "model": a rolling hash of the whole history; sampling mixes in seed and counter.
    static func next(_ history: [Int32], _ p: SamplingParams, _ index: UInt64, vocab: Int) -> Int32 {
        var h: UInt64 = 1469598103934665603
        for t in history { h = (h ^ UInt64(UInt32(bitPattern: t))) &* 1099511628211 }
        if !p.isGreedy { h ^= CounterRNG.mix(p.seed ^ index) }
        return Int32(CounterRNG.mix(h) % UInt64(vocab))
    }
}
