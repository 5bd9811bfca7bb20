// The one seam between front ends (CLI, HTTP server) and generation: submit a request, read its
// token stream, cancel it. `Engine` is the real implementation; route tests use a stub conforming
// to this protocol.
import Core

/// The token stream of one request. Iterating yields `.tokens` events then one `.finished`.
/// Dropping the stream (or cancelling the task reading it) cancels the request and frees its slot.
public struct GenerationStream: AsyncSequence, Sendable {
    public typealias Element = GenerationEvent
    public let id: RequestID
    public let events: AsyncThrowingStream<GenerationEvent, Error>

    public init(id: RequestID, events: AsyncThrowingStream<GenerationEvent, Error>) {
        self.id = id; self.events = events
    }
    public func makeAsyncIterator() -> AsyncThrowingStream<GenerationEvent, Error>.AsyncIterator {
        events.makeAsyncIterator()
    }
}

/// Submit / stream / cancel: what front ends need from generation (see the file header).
public protocol GenerationService: AnyObject, Sendable {
    /// Vocabulary size and context length requests are checked against.
    var vocabSize: Int { get }
    var maxContext: Int { get }
    /// Validates and queues a request; throws `EngineError` for a request that can never run.
    func submit(_ request: GenerationRequest) throws -> GenerationStream
    /// Ends a queued or running request with `.cancelled` and frees its slot. Unknown or finished ids
    /// are ignored.
    func cancel(_ id: RequestID)
    /// Counters and gauges at this moment.
    func metrics() -> EngineMetrics
}

extension GenerationService {
    /// Runs one request to the end and collects its tokens (tests, batch mode, non-streaming routes).
    public func generate(_ request: GenerationRequest) async throws -> (tokens: [Int32], summary: GenerationSummary) {
        let stream = try submit(request)
        var tokens: [Int32] = []
        for try await event in stream {
            switch event {
            case .tokens(let t): tokens += t
            case .finished(let summary): return (tokens, summary)
            }
        }
        throw EngineError.backendFailed("the stream for \(stream.id) ended without a finish event")
    }
}
