// The continuous-batching engine: owns one Backend and a scheduler thread. Requests are admitted FIFO
// into free KV slots (the rest wait in a queue); every iteration runs ONE `Backend.step` holding a decode
// token for every sequence that is generating plus prefill chunks for sequences still reading their
// prompt, within a per-step token budget. Slots are freed the moment a request finishes or is cancelled,
// unless prefix reuse is on (`EngineOptions.reusePrefixes`): then a finished sequence's slot is kept with the
// tokens its cache holds, a new request whose prompt starts with some of them takes that slot over
// (`Backend.keepPrefix`) and prefills only the rest, and kept slots are freed, oldest first, when a new
// request needs a slot and none is free. A multi-turn chat then re-reads only the new turn.
//
// Threading: the backend is only ever touched by the scheduler thread (steps are long and blocking, so
// they stay off Swift's cooperative pool). Front ends call `submit` / `cancel` / `metrics` from any
// thread; shared state is guarded by one NSCondition, and stream continuations are never resumed while
// it is held (a stream's onTermination calls back into `cancel`).
import Core
import Dispatch
import Foundation

/// Scheduler knobs: the token budget of one backend step and the longest prefill chunk per sequence.
public struct EngineOptions: Sendable, Equatable {
    /// Most tokens fed to the backend in one step (decode tokens + prefill chunks). Raised to at least
    /// the slot count so every generating sequence advances each step.
    public var maxStepTokens: Int
    /// Longest prefill chunk one sequence gets in one step.
    public var prefillChunk: Int
    /// Keep finished sequences' KV slots and reuse their longest matching prompt prefix (see the header).
    public var reusePrefixes: Bool

    public init(maxStepTokens: Int = 512, prefillChunk: Int = 256, reusePrefixes: Bool = false) {
        self.maxStepTokens = maxStepTokens; self.prefillChunk = prefillChunk; self.reusePrefixes = reusePrefixes
    }
}

/// The continuous-batching `GenerationService` over one `Backend` (see the file header for the
/// scheduling and threading rules). Call `shutdown()` before dropping it.
public final class Engine: GenerationService, @unchecked Sendable {
    public let vocabSize: Int
    public let maxContext: Int
    public let maxSlots: Int
    public let options: EngineOptions
    /// The backend's own description ("cpu, 2 threads").
    public let backendName: String

    private let backend: Backend

    // Guarded by `lock`.
    private let lock = NSCondition()
    private var nextID: UInt64 = 1
    private var waiting: [RequestState] = []          // FIFO queue of admitted-but-slotless requests
    private var live: Set<RequestID> = []         // queued or active, not finished
    private var pendingCancels: Set<RequestID> = []
    private var stopping = false
    private var stats = EngineMetrics()
    private var activeCount = 0                   // mirror of active.count for metrics
    private var kvInUse = 0

    // Owned by the scheduler thread.
    private var active: [RequestState] = []
    /// Prefix reuse: finished sequences' slots and the tokens their caches hold, oldest first.
    private var retained: [(slot: Int, tokens: [Int32])] = []

    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    public init(backend: Backend, options: EngineOptions = EngineOptions()) {
        self.backend = backend
        self.vocabSize = backend.config.vocabSize
        self.maxContext = backend.maxContext
        self.maxSlots = max(1, backend.maxSlots)
        self.backendName = backend.name
        var options = options
        options.prefillChunk = max(1, options.prefillChunk)
        options.maxStepTokens = max(options.maxStepTokens, maxSlots, 1)
        self.options = options
        stats.maxSlots = maxSlots
        stats.kvTokenCapacity = maxSlots * maxContext
        let thread = Thread { [self] in self.run() }
        thread.name = "gptoss.engine"
        thread.qualityOfService = .userInitiated
        self.thread = thread
        thread.start()
    }

    // MARK: GenerationService

    public func submit(_ request: GenerationRequest) throws -> GenerationStream {
        if let error = validate(request) {
            lock.lock(); stats.requestsRejected += 1; lock.unlock()
            throw error
        }
        let (events, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        lock.lock()
        if stopping {
            stats.requestsRejected += 1
            lock.unlock()
            throw EngineError.shuttingDown
        }
        let id = RequestID(nextID)
        nextID += 1
        let seq = RequestState(id: id, request: request, maxContext: maxContext, continuation: continuation)
        stats.requestsSubmitted += 1
        stats.promptTokens += UInt64(request.promptTokens.count)
        if seq.tokenLimit == 0 {
            stats.requestsFinished[.length, default: 0] += 1
            lock.unlock()
            continuation.yield(.finished(seq.summary(reason: .length, now: Clock.now())))
            continuation.finish()
            return GenerationStream(id: id, events: events)
        }
        // Set before the scheduler can see the request; it only runs once the stream is handed out.
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.cancel(id) }
        }
        live.insert(id)
        waiting.append(seq)
        lock.signal()
        lock.unlock()
        return GenerationStream(id: id, events: events)
    }

    public func cancel(_ id: RequestID) {
        lock.lock()
        guard live.contains(id) else { lock.unlock(); return }
        if let index = waiting.firstIndex(where: { $0.id == id }) {
            let seq = waiting.remove(at: index)
            live.remove(id)
            stats.requestsFinished[.cancelled, default: 0] += 1
            lock.unlock()
            seq.finish(.cancelled, now: Clock.now())
            return
        }
        pendingCancels.insert(id)
        lock.signal()
        lock.unlock()
    }

    public func metrics() -> EngineMetrics {
        lock.lock(); defer { lock.unlock() }
        var m = stats
        m.queueLength = waiting.count
        m.activeSequences = activeCount
        m.kvTokensInUse = kvInUse
        return m
    }

    /// Stops accepting requests, ends every queued and running request with `.cancelled`, frees their
    /// slots and waits for the scheduler thread to exit. Idempotent.
    public func shutdown() {
        lock.lock()
        let first = !stopping
        stopping = true
        lock.signal()
        lock.unlock()
        if first { stopped.wait() }
    }

    // MARK: Validation

    private func validate(_ r: GenerationRequest) -> EngineError? {
        if r.maxTokens < 0 { return .invalidMaxTokens(r.maxTokens) }
        if r.promptTokens.isEmpty { return .emptyPrompt }
        if r.promptTokens.count >= maxContext {
            return .promptTooLong(promptTokens: r.promptTokens.count, maxContext: maxContext)
        }
        if let i = r.promptTokens.firstIndex(where: { $0 < 0 || Int($0) >= vocabSize }) {
            return .tokenOutOfRange(token: r.promptTokens[i], index: i, vocabSize: vocabSize)
        }
        return nil
    }

    // MARK: Scheduler loop (scheduler thread only)

    private func run() {
        while true {
            lock.lock()
            while !stopping && waiting.isEmpty && active.isEmpty && pendingCancels.isEmpty {
                lock.wait()
            }
            if stopping {
                let queued = waiting
                waiting.removeAll()
                live.removeAll()
                pendingCancels.removeAll()
                let count = UInt64(queued.count + active.count)
                stats.requestsFinished[.cancelled, default: 0] += count
                activeCount = 0; kvInUse = 0
                lock.unlock()
                let now = Clock.now()
                for seq in active { backend.freeSlot(seq.slot); seq.finish(.cancelled, now: now) }
                for seq in queued { seq.finish(.cancelled, now: now) }
                active.removeAll()
                for r in retained { backend.freeSlot(r.slot) }
                retained.removeAll()
                stopped.signal()
                return
            }
            let cancels = pendingCancels
            pendingCancels.removeAll()
            var admitted: [RequestState] = []
            while !waiting.isEmpty && active.count + admitted.count < maxSlots {
                admitted.append(waiting.removeFirst())
            }
            lock.unlock()

            admit(admitted)
            if !cancels.isEmpty { applyCancels(cancels) }
            if active.isEmpty { continue }
            runStep()
        }
    }

    /// Gives each newly admitted sequence a KV slot; sequences the backend cannot place go back to the
    /// front of the queue.
    private func admit(_ admitted: [RequestState]) {
        guard !admitted.isEmpty else { return }
        let now = Clock.now()
        var unplaced: [RequestState] = []
        for seq in admitted {
            if !unplaced.isEmpty { unplaced.append(seq); continue }
            if options.reusePrefixes, let (slot, kept) = takeRetainedPrefix(for: seq.request.promptTokens) {
                seq.slot = slot
                seq.cached = kept
                seq.admittedAt = now
                active.append(seq)
                lock.lock(); stats.promptTokensReused += UInt64(kept); lock.unlock()
                continue
            }
            do {
                seq.slot = try allocateSlot()
                seq.admittedAt = now
                active.append(seq)
            } catch {
                unplaced.append(seq)
            }
        }
        lock.lock()
        for seq in admitted where seq.admittedAt != nil { stats.queueWait.observe(now - seq.submittedAt) }
        waiting.insert(contentsOf: unplaced, at: 0)
        activeCount = active.count
        lock.unlock()
        if active.isEmpty && !unplaced.isEmpty {
            // Nothing running will free a slot: the backend refused an empty slot table.
            let error = EngineError.backendFailed("\(backendName) has no free KV slot although no sequence holds one")
            lock.lock()
            waiting.removeAll { s in unplaced.contains { $0 === s } }
            for s in unplaced { live.remove(s.id) }
            stats.requestsFailed += UInt64(unplaced.count)
            lock.unlock()
            for s in unplaced { s.continuation.finish(throwing: error) }
        }
    }

    /// A free slot from the backend, freeing kept (prefix-reuse) slots oldest first while none is free.
    private func allocateSlot() throws -> Int {
        while true {
            do {
                return try backend.allocateSlot()
            } catch {
                guard !retained.isEmpty else { throw error }
                backend.freeSlot(retained.removeFirst().slot)
            }
        }
    }

    /// The kept slot sharing the longest prefix with `prompt`, cut back to that prefix (at most
    /// prompt.count − 1 tokens, so the last prompt token is fed and yields the first sample); nil when no
    /// kept slot shares a token or the backend cannot cut there.
    private func takeRetainedPrefix(for prompt: [Int32]) -> (slot: Int, kept: Int)? {
        var best = -1, bestLength = 0
        for (i, r) in retained.enumerated() {
            var n = 0
            let limit = min(r.tokens.count, prompt.count - 1)
            while n < limit && r.tokens[n] == prompt[n] { n += 1 }
            if n > bestLength { best = i; bestLength = n }
        }
        guard best >= 0 else { return nil }
        let r = retained.remove(at: best)
        let kept = backend.keepPrefix(ofSlot: r.slot, length: bestLength)
        return (r.slot, kept)
    }

    /// Ends cancelled sequences: active ones free their slot; ones that went back to the queue while
    /// being admitted are taken out of it.
    private func applyCancels(_ ids: Set<RequestID>) {
        let now = Clock.now()
        for seq in active where ids.contains(seq.id) { retire(seq, .cancelled, now: now) }
        lock.lock()
        let requeued = waiting.filter { ids.contains($0.id) }
        waiting.removeAll { ids.contains($0.id) }
        for seq in requeued { live.remove(seq.id) }
        stats.requestsFinished[.cancelled, default: 0] += UInt64(requeued.count)
        lock.unlock()
        for seq in requeued { seq.finish(.cancelled, now: now) }
    }

    /// Builds one batch (all decode tokens first, then prefill chunks in admission order within the
    /// token budget), runs it and hands each sequence its sampled token.
    private func runStep() {
        var budget = options.maxStepTokens
        var steps: [SequenceStep] = []
        var members: [RequestState] = []
        for seq in active where seq.isDecoding {
            steps.append(SequenceStep(slot: seq.slot, tokens: [seq.lastToken], startPosition: seq.cached,
                                      sampling: seq.request.sampling, sampleIndex: UInt64(seq.generated)))
            members.append(seq)
            budget -= 1
        }
        for seq in active where !seq.isDecoding {
            guard budget > 0 else { break }
            let prompt = seq.request.promptTokens
            let n = min(prompt.count - seq.cached, options.prefillChunk, budget)
            steps.append(SequenceStep(slot: seq.slot, tokens: Array(prompt[seq.cached ..< seq.cached + n]),
                                      startPosition: seq.cached, sampling: seq.request.sampling,
                                      sampleIndex: 0))
            members.append(seq)
            budget -= n
        }
        let fed = steps.reduce(0) { $0 + $1.tokens.count }

        let results: [SequenceResult]
        do {
            results = try backend.step(steps)
            guard results.count == steps.count else {
                throw EngineError.backendFailed("step returned \(results.count) results for \(steps.count) sequences")
            }
        } catch {
            let failure = (error as? EngineError) ?? .backendFailed(String(describing: error))
            for seq in members { backend.freeSlot(seq.slot) }
            active.removeAll { s in members.contains { $0 === s } }
            lock.lock()
            for seq in members { live.remove(seq.id) }
            stats.requestsFailed += UInt64(members.count)
            activeCount = active.count
            kvInUse = active.reduce(0) { $0 + $1.cached }
            lock.unlock()
            for seq in members { seq.continuation.finish(throwing: failure) }
            return
        }

        let now = Clock.now()
        var sampled = 0
        var finished: [(RequestState, FinishReason)] = []
        var firstTokenLatencies: [Double] = []
        for (i, seq) in members.enumerated() {
            seq.cached += steps[i].tokens.count
            guard seq.cached >= seq.request.promptTokens.count else { continue }  // mid-prompt chunk
            let token = results[i].token
            if seq.generated == 0 {
                seq.firstTokenAt = now
                firstTokenLatencies.append(now - seq.submittedAt)
            }
            seq.generated += 1
            seq.lastToken = token
            if options.reusePrefixes { seq.output.append(token) }
            sampled += 1
            seq.continuation.yield(.tokens([token]))
            if seq.request.stopTokens.contains(token) {
                seq.stopToken = token
                finished.append((seq, .stop))
            } else if seq.generated >= seq.tokenLimit {
                finished.append((seq, .length))
            }
        }
        lock.lock()
        stats.steps += 1
        stats.stepTokens += UInt64(fed)
        stats.generatedTokens += UInt64(sampled)
        for latency in firstTokenLatencies { stats.timeToFirstToken.observe(latency) }
        lock.unlock()
        for (seq, reason) in finished { retire(seq, reason, now: now) }
        lock.lock()
        kvInUse = active.reduce(0) { $0 + $1.cached }
        lock.unlock()
    }

    /// Frees an active sequence's slot (or, with prefix reuse, keeps it with the tokens its cache holds)
    /// and ends its stream.
    private func retire(_ seq: RequestState, _ reason: FinishReason, now: Double) {
        if options.reusePrefixes && seq.cached > 0 {
            retained.append((seq.slot, Array((seq.request.promptTokens + seq.output).prefix(seq.cached))))
        } else {
            backend.freeSlot(seq.slot)
        }
        active.removeAll { $0 === seq }
        lock.lock()
        live.remove(seq.id)
        stats.requestsFinished[reason, default: 0] += 1
        stats.requestLatency.observe(now - seq.submittedAt)
        activeCount = active.count
        kvInUse = active.reduce(0) { $0 + $1.cached }
        lock.unlock()
        seq.finish(reason, now: now)
    }
}

/// One request's life inside the engine. Mutated only by the scheduler thread once queued.
private final class RequestState {
    let id: RequestID
    let request: GenerationRequest
    let continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    /// Sampled tokens allowed: maxTokens capped by the room left in the context.
    let tokenLimit: Int
    let submittedAt = Clock.now()
    var admittedAt: Double?
    var firstTokenAt: Double?
    var slot = -1
    /// Tokens already in this sequence's KV cache (= start position of the next step).
    var cached = 0
    var generated = 0
    var lastToken: Int32 = 0
    var stopToken: Int32?
    /// Sampled tokens, kept only with prefix reuse (the retained cache holds prompt + output minus the last).
    var output: [Int32] = []

    init(id: RequestID, request: GenerationRequest, maxContext: Int,
         continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation) {
        self.id = id; self.request = request; self.continuation = continuation
        self.tokenLimit = Swift.max(0, Swift.min(request.maxTokens, maxContext - request.promptTokens.count))
    }

    var isDecoding: Bool { generated > 0 }

    func summary(reason: FinishReason, now: Double) -> GenerationSummary {
        let timings = GenerationTimings(
            queueSeconds: (admittedAt ?? now) - submittedAt,
            timeToFirstTokenSeconds: firstTokenAt.map { $0 - submittedAt },
            decodeSeconds: firstTokenAt.map { now - $0 } ?? 0,
            totalSeconds: now - submittedAt)
        return GenerationSummary(reason: reason, stopToken: reason == .stop ? stopToken : nil,
                                 usage: Usage(promptTokens: request.promptTokens.count, completionTokens: generated),
                                 timings: timings)
    }

    func finish(_ reason: FinishReason, now: Double) {
        continuation.yield(.finished(summary(reason: reason, now: now)))
        continuation.finish()
    }
}

/// Monotonic seconds.
enum Clock {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
