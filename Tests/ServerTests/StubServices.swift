// Test doubles for the server's two seams: a scripted GenerationService (tokens per request, optional
// hang until cancelled, records submits and cancels) and a tiny ChatFormat whose "tokenizer" is one
// token per byte and whose output grammar is a handful of marker ids (below).
@testable import Engine
import Foundation
import Server

/// Output markers the stub format understands.
enum Marker {
    static let analysis: Int32 = 800   // following bytes are reasoning
    static let final: Int32 = 801      // following bytes are content
    static let toolCall: Int32 = 802   // starts a call to get_weather; following bytes are its arguments
    static let `return`: Int32 = 900   // ends the turn
    static let call: Int32 = 901       // ends the tool call and the turn
}

func bytes(_ s: String) -> [Int32] { s.utf8.map { Int32($0) } }

/// What the stub engine answers for one request.
struct Script: Sendable {
    var tokens: [Int32]
    /// How the stream ends once `tokens` are sent; nil: it hangs until cancelled.
    var finish: FinishReason?

    static func reply(_ tokens: [Int32], _ finish: FinishReason? = .stop) -> Script { Script(tokens: tokens, finish: finish) }
}

final class StubEngine: GenerationService, @unchecked Sendable {
    let vocabSize = 1000
    let maxContext: Int
    private let lock = NSLock()
    private let script: @Sendable (GenerationRequest) -> Script
    private var next: UInt64 = 1
    private var open: [RequestID: AsyncThrowingStream<GenerationEvent, Error>.Continuation] = [:]
    private(set) var submitted: [GenerationRequest] = []
    private(set) var cancelled: [RequestID] = []

    init(maxContext: Int = 256, script: @escaping @Sendable (GenerationRequest) -> Script) {
        self.maxContext = maxContext; self.script = script
    }

    var openCount: Int { lock.lock(); defer { lock.unlock() }; return open.count }
    var cancelCount: Int { lock.lock(); defer { lock.unlock() }; return cancelled.count }
    var submitCount: Int { lock.lock(); defer { lock.unlock() }; return submitted.count }

    func submit(_ request: GenerationRequest) throws -> GenerationStream {
        if request.promptTokens.count >= maxContext {
            throw EngineError.promptTooLong(promptTokens: request.promptTokens.count, maxContext: maxContext)
        }
        let (events, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        lock.lock()
        let id = RequestID(next); next += 1
        submitted.append(request)
        lock.unlock()
        let s = script(request)
        // Stop at a stop token or the token limit, as the engine does.
        var sent: [Int32] = []
        var reason = s.finish
        for t in s.tokens {
            if sent.count == request.maxTokens { reason = .length; break }
            sent.append(t)
            if request.stopTokens.contains(t) { reason = .stop; break }
        }
        if !sent.isEmpty { continuation.yield(.tokens(sent)) }
        if let reason {
            continuation.yield(.finished(GenerationSummary(
                reason: reason, stopToken: nil,
                usage: Usage(promptTokens: request.promptTokens.count, completionTokens: sent.count),
                timings: GenerationTimings(queueSeconds: 0, timeToFirstTokenSeconds: 0, decodeSeconds: 0, totalSeconds: 0))))
            continuation.finish()
        } else {
            lock.lock(); open[id] = continuation; lock.unlock()
            continuation.onTermination = { [weak self] termination in
                if case .cancelled = termination { self?.cancel(id) }
            }
        }
        return GenerationStream(id: id, events: events)
    }

    func cancel(_ id: RequestID) {
        lock.lock()
        cancelled.append(id)
        let c = open.removeValue(forKey: id)
        lock.unlock()
        c?.finish()
    }

    func metrics() -> EngineMetrics {
        var m = EngineMetrics()
        lock.lock()
        m.requestsSubmitted = UInt64(submitted.count)
        m.activeSequences = open.count
        lock.unlock()
        m.maxSlots = 4
        return m
    }
}

/// JSON via Foundation; prompt = one token per byte of the joined message contents.
struct StubFormat: ChatFormat {
    func object(_ body: [UInt8]) throws -> [String: Any] {
        guard let any = try? JSONSerialization.jsonObject(with: Data(body)) else {
            throw APIError.invalidJSON("not JSON")
        }
        guard let object = any as? [String: Any] else {
            throw APIError.invalidRequest("expected an object", param: nil, code: "invalid_type")
        }
        return object
    }

    func options(_ o: [String: Any]) throws -> CompletionOptions {
        func int(_ key: String) throws -> Int? {
            guard let v = o[key], !(v is NSNull) else { return nil }
            guard !(v is String), let i = v as? Int else {
                throw APIError.invalidRequest("\(key): expected integer", param: key, code: "invalid_type")
            }
            return i
        }
        var options = CompletionOptions()
        options.model = o["model"] as? String
        if let m = try int("max_completion_tokens") { options.maxTokens = m; options.maxTokensField = "max_completion_tokens" }
        else { options.maxTokens = try int("max_tokens") }
        options.temperature = (o["temperature"] as? NSNumber)?.doubleValue
        options.topP = (o["top_p"] as? NSNumber)?.doubleValue
        options.seed = try int("seed")
        options.n = try int("n")
        if let s = o["stop"] as? String { options.stop = [s] } else if let a = o["stop"] as? [String] { options.stop = a }
        options.stream = (o["stream"] as? Bool) ?? false
        options.includeUsage = ((o["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
        return options
    }

    func prepareChat(body: [UInt8]) throws -> PreparedChat {
        let o = try object(body)
        guard let messages = o["messages"] else { throw APIError.invalidRequest("messages: required field is missing", param: "messages", code: "missing_required_parameter") }
        guard let list = messages as? [[String: Any]] else {
            throw APIError.invalidRequest("messages: expected array", param: "messages", code: "invalid_type")
        }
        let text = list.compactMap { $0["content"] as? String }.joined(separator: "\n")
        var forced: String?
        if let choice = o["tool_choice"] as? [String: Any], let f = choice["function"] as? [String: Any] {
            forced = f["name"] as? String
        }
        return PreparedChat(options: try options(o), promptTokens: bytes(text),
                            stopTokens: [Marker.return, Marker.call], forcedFunction: forced)
    }

    func prepareCompletion(body: [UInt8]) throws -> PreparedCompletion {
        let o = try object(body)
        let prompt: [Int32]
        var text = ""
        if let s = o["prompt"] as? String { prompt = bytes(s); text = s }
        else if let ids = o["prompt"] as? [Int] { prompt = ids.map(Int32.init) }
        else { throw APIError.invalidRequest("prompt: required field is missing", param: "prompt", code: "missing_required_parameter") }
        return PreparedCompletion(options: try options(o), promptTokens: prompt, echo: (o["echo"] as? Bool) ?? false,
                                  promptText: text)
    }

    func makeChatParser(for chat: PreparedChat) -> any ChatOutputParser { StubParser(forced: chat.forcedFunction) }
    func makeTextDecoder() -> any TextStreamDecoder { StubDecoder() }
}

final class StubParser: ChatOutputParser {
    enum Mode { case analysis, final, tool }
    var mode: Mode = .final
    var pendingBegin: String?

    init(forced: String?) {
        if let forced { mode = .tool; pendingBegin = forced }
    }

    func feed(_ token: Int32) -> [ChatOutputEvent] {
        var events: [ChatOutputEvent] = []
        if let name = pendingBegin { events.append(.toolCallBegin(name: name)); pendingBegin = nil }
        switch token {
        case Marker.analysis: mode = .analysis
        case Marker.final:
            if mode == .tool { events.append(.toolCallEnd) }
            mode = .final
        case Marker.toolCall: mode = .tool; events.append(.toolCallBegin(name: "get_weather"))
        case Marker.return: events.append(.turnEnd(toolCall: false))
        case Marker.call: events += [.toolCallEnd, .turnEnd(toolCall: true)]
        default:
            let s = String(UnicodeScalar(UInt8(truncatingIfNeeded: token)))
            switch mode {
            case .analysis: events.append(.reasoning(s))
            case .final: events.append(.content(s))
            case .tool: events.append(.toolCallArguments(s))
            }
        }
        return events
    }

    func finish() -> [ChatOutputEvent] {
        mode == .tool ? [.toolCallEnd] : []
    }
}

final class StubDecoder: TextStreamDecoder {
    func feed(_ token: Int32) -> String { String(UnicodeScalar(UInt8(truncatingIfNeeded: token))) }
    func finish() -> String { "" }
}
