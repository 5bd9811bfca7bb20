// POST /v1/completions: a raw prompt (text, or token ids) continued by the model with no chat format,
// returned as text in one JSON object or as SSE chunks. `stop` strings and `echo` apply to the text.
import Engine
import Foundation
import Hummingbird

extension ServerState {
    func completions(_ request: Request) async throws -> Response {
        var request = request
        let body = try await readBody(&request)
        let prepared = try format.prepareCompletion(body: body)
        let generation = try generationRequest(prepared.options, promptTokens: prepared.promptTokens,
                                               stopTokens: [], promptParam: "prompt")
        let stream = try submit(generation, promptParam: "prompt")
        let id = makeID("cmpl-")
        let created = Int(Date.now.timeIntervalSince1970)
        let decoder = format.makeTextDecoder()
        let promptCount = prepared.promptTokens.count
        let echo = prepared.echo ? prepared.promptText : ""
        let modelID = self.modelID

        @Sendable func finishReason(_ end: DriveEnd) -> String {
            if case .finished(let s) = end, s.reason == .length { return "length" }
            return "stop"
        }

        if !prepared.options.stream {
            var stop = StopMatcher(prepared.options.stop)
            var text = echo
            let outcome = try await withDisconnectCancellation(request) {
                var stopped = false
                let outcome = try await drive(stream, promptTokens: promptCount) { token in
                    let (emit, hit) = stop.push(decoder.feed(token))
                    text += emit
                    stopped = hit
                    return !hit
                }
                if !stopped {
                    let (emit, _) = stop.push(decoder.finish())
                    text += emit + stop.flush()
                }
                return outcome
            }
            if case .stoppedByConsumer = outcome.end { metrics.stopStringMatched() }
            return jsonResponse(.object([
                ("id", .string(id)), ("object", .string("text_completion")), ("created", .int(created)),
                ("model", .string(modelID)),
                ("choices", .array([.object([
                    ("text", .string(text)), ("index", .int(0)), ("logprobs", .null),
                    ("finish_reason", .string(finishReason(outcome.end))),
                ])])),
                ("usage", usageJSON(outcome)),
                ("system_fingerprint", .null),
            ]), closeConnection: true)
        }

        let includeUsage = prepared.options.includeUsage
        let stops = prepared.options.stop
        @Sendable func chunk(_ text: String, finish: String? = nil) -> String {
            var members: [(String, JSONOut)] = [
                ("id", .string(id)), ("object", .string("text_completion")), ("created", .int(created)),
                ("model", .string(modelID)), ("system_fingerprint", .null),
                ("choices", .array([.object([("text", .string(text)), ("index", .int(0)), ("logprobs", .null),
                                             ("finish_reason", finish.map(JSONOut.string) ?? .null)])])),
            ]
            if includeUsage { members.append(("usage", .null)) }
            return SSE.frame(.object(members))
        }
        let state = self
        let collected = request
        return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
            var stop = StopMatcher(stops)
            do {
                if !echo.isEmpty { try await writer.write(ByteBuffer(string: chunk(echo))) }
                _ = try await state.withDisconnectCancellation(collected) {
                    var stopped = false
                    let outcome = try await state.drive(stream, promptTokens: promptCount) { token in
                        let (emit, hit) = stop.push(decoder.feed(token))
                        stopped = hit
                        if !emit.isEmpty { try await writer.write(ByteBuffer(string: chunk(emit))) }
                        return !hit
                    }
                    var tail = ""
                    if !stopped {
                        let (emit, _) = stop.push(decoder.finish())
                        let rest = emit + stop.flush()
                        if !rest.isEmpty { tail += chunk(rest) }
                    } else {
                        state.metrics.stopStringMatched()
                    }
                    tail += chunk("", finish: finishReason(outcome.end))
                    if includeUsage {
                        tail += SSE.frame(.object([
                            ("id", .string(id)), ("object", .string("text_completion")), ("created", .int(created)),
                            ("model", .string(modelID)), ("system_fingerprint", .null), ("choices", .array([])),
                            ("usage", usageJSON(outcome)),
                        ]))
                    }
                    try await writer.write(ByteBuffer(string: tail + SSE.done))
                    return outcome
                }
            } catch let error as APIError {
                try await writer.write(ByteBuffer(string: SSE.frame(error.json) + SSE.done))
            }
            try await writer.finish(nil)
        })
    }
}
