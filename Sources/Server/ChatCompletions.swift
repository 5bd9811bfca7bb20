// POST /v1/chat/completions: body → PreparedChat (the chat format) → engine → chat events → the
// OpenAI response, either one JSON object or SSE chunks. Analysis text becomes `reasoning_content`,
// function calls become `tool_calls` (finish_reason "tool_calls" when the turn ends with `<|call|>`),
// `stop` strings cut the visible content. A client that disconnects cancels the generation.
import Engine
import Foundation
import Hummingbird

/// One piece of the reply as the client sees it.
enum ChatPiece {
    case reasoning(String)
    case content(String)
    case toolCallBegin(index: Int, id: String, name: String)
    case toolCallArguments(index: Int, String)
}

/// Turns chat events into client pieces: applies stop strings to content, numbers tool calls and
/// remembers how the turn ended.
struct ChatAssembler {
    var stop: StopMatcher
    var toolCalls: [(id: String, name: String, arguments: String)] = []
    var content = ""
    var reasoning = ""
    var endedWithCall = false
    var stoppedByString = false

    init(stop: [String]) { self.stop = StopMatcher(stop) }

    mutating func accept(_ events: [ChatOutputEvent]) -> [ChatPiece] {
        var pieces: [ChatPiece] = []
        for event in events where !stoppedByString {
            switch event {
            case .reasoning(let text):
                reasoning += text
                pieces.append(.reasoning(text))
            case .content(let text):
                let (emit, stopped) = stop.push(text)
                if !emit.isEmpty { content += emit; pieces.append(.content(emit)) }
                if stopped { stoppedByString = true }
            case .toolCallBegin(let name):
                let id = makeID("call_")
                toolCalls.append((id, name, ""))
                pieces.append(.toolCallBegin(index: toolCalls.count - 1, id: id, name: name))
            case .toolCallArguments(let text):
                guard !toolCalls.isEmpty else { continue }
                toolCalls[toolCalls.count - 1].arguments += text
                pieces.append(.toolCallArguments(index: toolCalls.count - 1, text))
            case .toolCallEnd:
                break
            case .turnEnd(let toolCall):
                endedWithCall = toolCall
            }
        }
        return pieces
    }

    /// Held-back content when the generation ended without a stop-string match.
    mutating func flush() -> [ChatPiece] {
        guard !stoppedByString else { return [] }
        let rest = stop.flush()
        guard !rest.isEmpty else { return [] }
        content += rest
        return [.content(rest)]
    }

    func finishReason(_ end: DriveEnd) -> String {
        switch end {
        case .stoppedByConsumer: return "stop"
        case .finished(let summary):
            switch summary.reason {
            case .length: return "length"
            case .stop, .cancelled: return endedWithCall ? "tool_calls" : "stop"
            }
        }
    }
}

extension ServerState {
    func chatCompletions(_ request: Request) async throws -> Response {
        var request = request
        let body = try await readBody(&request)
        let chat = try format.prepareChat(body: body)
        let generation = try generationRequest(chat.options, promptTokens: chat.promptTokens,
                                               stopTokens: chat.stopTokens, promptParam: "messages")
        let stream = try submit(generation, promptParam: "messages")
        let id = makeID("chatcmpl-")
        let created = Int(Date.now.timeIntervalSince1970)
        let parser = format.makeChatParser(for: chat)
        let promptCount = chat.promptTokens.count

        if !chat.options.stream {
            var assembler = ChatAssembler(stop: chat.options.stop)
            let outcome = try await withDisconnectCancellation(request) {
                let outcome = try await drive(stream, promptTokens: promptCount) { token in
                    _ = assembler.accept(parser.feed(token))
                    return !assembler.stoppedByString
                }
                if case .finished = outcome.end { _ = assembler.accept(parser.finish()); _ = assembler.flush() }
                return outcome
            }
            var message: [(String, JSONOut)] = [
                ("role", .string("assistant")),
                ("content", assembler.content.isEmpty && !assembler.toolCalls.isEmpty ? .null : .string(assembler.content)),
                ("reasoning_content", assembler.reasoning.isEmpty ? .null : .string(assembler.reasoning)),
            ]
            if !assembler.toolCalls.isEmpty {
                message.append(("tool_calls", .array(assembler.toolCalls.map { call in
                    .object([("id", .string(call.id)), ("type", .string("function")),
                             ("function", .object([("name", .string(call.name)), ("arguments", .string(call.arguments))]))])
                })))
            }
            if case .stoppedByConsumer = outcome.end { metrics.stopStringMatched() }
            return jsonResponse(.object([
                ("id", .string(id)), ("object", .string("chat.completion")), ("created", .int(created)),
                ("model", .string(modelID)),
                ("choices", .array([.object([
                    ("index", .int(0)), ("message", .object(message)), ("logprobs", .null),
                    ("finish_reason", .string(assembler.finishReason(outcome.end))),
                ])])),
                ("usage", usageJSON(outcome)),
                ("system_fingerprint", .null),
            ]), closeConnection: true)
        }

        let includeUsage = chat.options.includeUsage
        let stops = chat.options.stop
        let modelID = self.modelID
        @Sendable func chunk(_ delta: JSONOut, finish: String? = nil) -> String {
            var members: [(String, JSONOut)] = [
                ("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .int(created)),
                ("model", .string(modelID)), ("system_fingerprint", .null),
                ("choices", .array([.object([("index", .int(0)), ("delta", delta), ("logprobs", .null),
                                             ("finish_reason", finish.map(JSONOut.string) ?? .null)])])),
            ]
            if includeUsage { members.append(("usage", .null)) }
            return SSE.frame(.object(members))
        }
        @Sendable func render(_ pieces: [ChatPiece]) -> String {
            var out = ""
            for piece in pieces {
                switch piece {
                case .reasoning(let t): out += chunk(.object([("reasoning_content", .string(t))]))
                case .content(let t): out += chunk(.object([("content", .string(t))]))
                case let .toolCallBegin(index, callID, name):
                    out += chunk(.object([("tool_calls", .array([.object([
                        ("index", .int(index)), ("id", .string(callID)), ("type", .string("function")),
                        ("function", .object([("name", .string(name)), ("arguments", .string(""))])),
                    ])]))]))
                case let .toolCallArguments(index, t):
                    out += chunk(.object([("tool_calls", .array([.object([
                        ("index", .int(index)), ("function", .object([("arguments", .string(t))])),
                    ])]))]))
                }
            }
            return out
        }

        let state = self
        let collected = request
        return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
            var assembler = ChatAssembler(stop: stops)
            try await writer.write(ByteBuffer(string: chunk(.object([("role", .string("assistant")), ("content", .string(""))]))))
            do {
                let outcome = try await state.withDisconnectCancellation(collected) {
                    let outcome = try await state.drive(stream, promptTokens: promptCount) { token in
                        let text = render(assembler.accept(parser.feed(token)))
                        if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                        return !assembler.stoppedByString
                    }
                    var tail = ""
                    if case .finished = outcome.end {
                        tail += render(assembler.accept(parser.finish()))
                        tail += render(assembler.flush())
                    } else {
                        state.metrics.stopStringMatched()
                    }
                    tail += chunk(.object([]), finish: assembler.finishReason(outcome.end))
                    if includeUsage {
                        tail += SSE.frame(.object([
                            ("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .int(created)),
                            ("model", .string(modelID)), ("system_fingerprint", .null), ("choices", .array([])),
                            ("usage", usageJSON(outcome)),
                        ]))
                    }
                    tail += SSE.done
                    try await writer.write(ByteBuffer(string: tail))
                    return outcome
                }
                _ = outcome
            } catch let error as APIError {
                try await writer.write(ByteBuffer(string: SSE.frame(error.json) + SSE.done))
            }
            try await writer.finish(nil)
        })
    }

    /// Runs `operation`, cancelling it when the client closes its connection (the engine request is
    /// then cancelled by `drive`).
    func withDisconnectCancellation<T: Sendable>(_ request: Request,
                                                 _ operation: () async throws -> T) async throws -> T {
        do {
            return try await request.body.consumeWithCancellationOnInboundClose { _ in try await operation() }
        } catch is CancellationError {
            metrics.clientDisconnected()
            throw CancellationError()
        }
    }
}

func usageJSON(_ outcome: GenerationOutcome) -> JSONOut {
    .object([("prompt_tokens", .int(outcome.promptTokens)), ("completion_tokens", .int(outcome.completionTokens)),
             ("total_tokens", .int(outcome.promptTokens + outcome.completionTokens))])
}
