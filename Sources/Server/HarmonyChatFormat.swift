// The real ChatFormat: chat bodies parsed by harmony's ChatRequest parser and rendered by its
// HarmonyRenderer with the o200k tokenizer; output parsed by HarmonyStreamParser. Completions bodies
// parsed with harmony's order-preserving JSON parser; their prompts encoded with the tokenizer
// (harmony's special tokens allowed, so a raw harmony prompt works).
//
// tool_choice: "auto"/"required" render the tools as given; "none" renders no tools; a named function
// ({"type":"function","function":{"name":N}}) prefills the reply header
// ` to=functions.N<|channel|>commentary <|constrain|>json<|message|>` so the model only writes that
// call's arguments (documented in docs/server.md; the end-to-end test uses it to force a tool call).
import Foundation
import Harmony
import Tokenizer

public struct HarmonyChatFormat: ChatFormat {
    let tokenizer: O200kTokenizer
    let renderer = HarmonyRenderer()
    /// YYYY-MM-DD for the system message's "Current date:"; nil leaves it out.
    let date: @Sendable () -> String?

    public init(tokenizer: O200kTokenizer, date: @escaping @Sendable () -> String? = HarmonyChatFormat.today) {
        self.tokenizer = tokenizer; self.date = date
    }

    public static let today: @Sendable () -> String? = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }

    // MARK: chat

    public func prepareChat(body: [UInt8]) throws -> PreparedChat {
        var request: ChatRequest
        do { request = try ChatRequest.parse(jsonBytes: body) } catch { throw Self.apiError(error) }
        if request.messages.isEmpty {
            throw APIError.invalidRequest("messages must contain at least one message.", param: "messages",
                                          code: "invalid_value")
        }

        var forced: String?
        if let choice = request.toolChoice {
            switch choice {
            case .string("none"): request.tools = []
            case .string("auto"), .string("required"): break
            case .string(let other):
                throw APIError.invalidRequest("tool_choice must be \"none\", \"auto\", \"required\" or a function, got \"\(other)\".",
                                              param: "tool_choice", code: "invalid_value")
            case .object(let object):
                guard let name = object["function"]?.objectValue?["name"]?.stringValue else {
                    throw APIError.invalidRequest("tool_choice.function.name: required field is missing.",
                                                  param: "tool_choice.function.name", code: "missing_required_parameter")
                }
                guard request.tools.contains(where: { $0.name == name }) else {
                    throw APIError.invalidRequest("tool_choice names the function \"\(name)\", which is not in tools.",
                                                  param: "tool_choice", code: "invalid_value")
                }
                forced = name
            default: break
            }
        }

        var ids = renderer.renderForCompletion(request, date: date(), encoder: tokenizer)
        ids += prefill(forcedFunction: forced)
        var options = CompletionOptions(
            model: request.model, maxTokens: request.completionTokenLimit,
            maxTokensField: request.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens",
            temperature: request.temperature, topP: request.topP, seed: request.seed, stop: request.stop,
            stream: request.stream, includeUsage: request.streamOptions?.includeUsage ?? false, n: request.n)
        if !options.stream { options.includeUsage = false }
        return PreparedChat(options: options, promptTokens: ids.map { Int32(bitPattern: $0) },
                            stopTokens: Set(HarmonyRenderer.stopTokens.map { Int32(bitPattern: $0) }),
                            forcedFunction: forced)
    }

    /// The header tokens that address the reply to `functions.NAME` (after `<|start|>assistant`).
    func prefill(forcedFunction name: String?) -> [UInt32] {
        guard let name else { return [] }
        let header = HarmonyMessage(author: HarmonyAuthor(.assistant), content: [], channel: "commentary",
                                    recipient: "functions." + name, contentType: "<|constrain|>json")
        var pieces: [HarmonyPiece] = []
        renderer.appendMessage(header, hasFunctionTools: true, into: &pieces)
        // Drop `<|start|>` `assistant` (already in the prompt) and the closing `<|call|>`.
        return HarmonyRenderer.tokenIDs(Array(pieces.dropFirst(2).dropLast()), encoder: tokenizer)
    }

    public func makeChatParser(for chat: PreparedChat) -> any ChatOutputParser {
        HarmonyOutputParser(tokenizer: tokenizer, prefill: prefill(forcedFunction: chat.forcedFunction))
    }

    static func apiError(_ error: ChatRequestError) -> APIError {
        switch error {
        case .invalidJSON(let e): return .invalidJSON(e.description)
        case .wrongType(let path, _, _):
            return .invalidRequest(error.description, param: path, code: "invalid_type")
        case .missingField(let path):
            return .invalidRequest(error.description, param: path, code: "missing_required_parameter")
        default:
            return .invalidRequest(error.description, param: error.path, code: "invalid_value")
        }
    }

    // MARK: completions

    public func prepareCompletion(body: [UInt8]) throws -> PreparedCompletion {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes: body) } catch { throw APIError.invalidJSON(error.description) }
        guard case .object(let o) = value else {
            throw APIError.invalidRequest("(request body): expected object, found \(value.typeName)", code: "invalid_type")
        }
        let fields = FieldReader(object: o)
        var options = CompletionOptions()
        options.model = try fields.string("model")
        options.maxTokens = try fields.int("max_tokens") ?? 16   // OpenAI's default for completions
        options.temperature = try fields.double("temperature")
        options.topP = try fields.double("top_p")
        options.seed = try fields.int("seed")
        options.n = try fields.int("n")
        options.stop = try fields.stop()
        options.stream = try fields.bool("stream") ?? false
        options.includeUsage = options.stream ? (try fields.includeUsage()) : false
        let echo = try fields.bool("echo") ?? false

        guard let prompt = o["prompt"], !prompt.isNull else {
            throw APIError.invalidRequest("prompt: required field is missing", param: "prompt", code: "missing_required_parameter")
        }
        var text = ""
        var ids: [Int32]
        switch prompt {
        case .string(let s):
            text = s
            ids = try encode(s)
        case .array(let items) where items.count == 1 && items[0].stringValue != nil:
            text = items[0].stringValue!
            ids = try encode(text)
        case .array(let items) where items.allSatisfy({ $0.numberValue?.intValue != nil }):
            ids = []
            for (i, item) in items.enumerated() {
                let id = item.numberValue!.intValue!
                guard id >= 0, id < tokenizer.vocabularySize, tokenizer.isKnown(UInt32(id)) else {
                    throw APIError.invalidRequest("prompt[\(i)]: token id \(id) is not in the vocabulary.", param: "prompt[\(i)]",
                                                  code: "invalid_value")
                }
                ids.append(Int32(id))
            }
            text = tokenizer.decode(ids.map { UInt32($0) })
        case .array:
            throw APIError.invalidRequest("prompt: expected a string, an array of one string or an array of token ids (one prompt per request).",
                                          param: "prompt", code: "invalid_type")
        default:
            throw APIError.invalidRequest("prompt: expected string or array, found \(prompt.typeName)", param: "prompt",
                                          code: "invalid_type")
        }
        return PreparedCompletion(options: options, promptTokens: ids, echo: echo, promptText: text)
    }

    func encode(_ text: String) throws -> [Int32] {
        do {
            return try tokenizer.encode(text, allowedSpecial: .all).map { Int32(bitPattern: $0) }
        } catch {
            throw APIError.invalidRequest("prompt: \(error)", param: "prompt", code: "invalid_value")
        }
    }

    public func makeTextDecoder() -> any TextStreamDecoder { TokenizerTextDecoder(tokenizer.makeStreamDecoder()) }
}

/// Typed reads of optional completions fields, with field paths in errors.
private struct FieldReader {
    let object: JSONObject

    func present(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }
    func wrong(_ key: String, _ expected: String, _ v: JSONValue) -> APIError {
        .invalidRequest("\(key): expected \(expected), found \(v.typeName)", param: key, code: "invalid_type")
    }
    func string(_ key: String) throws -> String? {
        guard let v = present(key) else { return nil }
        guard let s = v.stringValue else { throw wrong(key, "string", v) }
        return s
    }
    func bool(_ key: String) throws -> Bool? {
        guard let v = present(key) else { return nil }
        guard let b = v.boolValue else { throw wrong(key, "boolean", v) }
        return b
    }
    func int(_ key: String) throws -> Int? {
        guard let v = present(key) else { return nil }
        guard let n = v.numberValue?.intValue else { throw wrong(key, "integer", v) }
        return n
    }
    func double(_ key: String) throws -> Double? {
        guard let v = present(key) else { return nil }
        guard let n = v.numberValue else { throw wrong(key, "number", v) }
        return n.doubleValue
    }
    func stop() throws -> [String] {
        guard let v = present("stop") else { return [] }
        if let s = v.stringValue { return [s] }
        guard let items = v.arrayValue else { throw wrong("stop", "string or array of strings", v) }
        return try items.enumerated().map { i, item in
            guard let s = item.stringValue else { throw wrong("stop[\(i)]", "string", item) }
            return s
        }
    }
    func includeUsage() throws -> Bool {
        guard let v = present("stream_options") else { return false }
        guard let o = v.objectValue else { throw wrong("stream_options", "object", v) }
        guard let u = o["include_usage"], !u.isNull else { return false }
        guard let b = u.boolValue else { throw wrong("stream_options.include_usage", "boolean", u) }
        return b
    }
}

/// HarmonyStreamParser events → chat events. Text the model wrote outside harmony's grammar (e.g. a
/// random model's tokens before any `<|message|>`) is surfaced as content rather than dropped.
/// Analysis → reasoning, final and commentary without a recipient → content, a message with a
/// recipient → a tool call whose text is the arguments.
final class HarmonyOutputParser: ChatOutputParser {
    private var parser: HarmonyStreamParser
    private var pending: [ChatOutputEvent] = []
    private var inToolCall = false

    init(tokenizer: O200kTokenizer, prefill: [UInt32]) {
        parser = HarmonyStreamParser(tokenizer: tokenizer, role: .assistant)
        if !prefill.isEmpty { pending = translate(parser.process(prefill)) }
    }

    func feed(_ token: Int32) -> [ChatOutputEvent] {
        var events = pending
        pending = []
        events += translate(parser.process(UInt32(bitPattern: token)))
        return events
    }

    func finish() -> [ChatOutputEvent] {
        var events = pending
        pending = []
        events += translate(parser.finish())
        return events
    }

    private func translate(_ events: [HarmonyStreamEvent]) -> [ChatOutputEvent] {
        var out: [ChatOutputEvent] = []
        for event in events {
            switch event {
            case .messageStart(let header):
                if header.role == .assistant, let recipient = header.recipient {
                    let name = recipient.hasPrefix("functions.") ? String(recipient.dropFirst("functions.".count)) : recipient
                    out.append(.toolCallBegin(name: name))
                    inToolCall = true
                }
            case .textDelta(let text, let channel, let recipient):
                // Routing as HarmonyCompletion does; commentary preambles are content for the API.
                switch HarmonyCompletion.destination(channel: channel, recipient: recipient) {
                case .reasoning?: out.append(.reasoning(text))
                case .content?, .preamble?: out.append(.content(text))
                case nil: if inToolCall { out.append(.toolCallArguments(text)) }
                }
            case .messageEnd:
                if inToolCall { out.append(.toolCallEnd); inToolCall = false }
            case .toolCall:
                break
            case .turnEnd(let how):
                out.append(.turnEnd(toolCall: how == .call))
            case .malformed(_, let text):
                if !text.isEmpty { out.append(.content(text)) }
            }
        }
        return out
    }
}

/// The tokenizer's incremental UTF-8 decoder behind the server's protocol.
final class TokenizerTextDecoder: TextStreamDecoder {
    private var decoder: StreamDecoder
    init(_ decoder: StreamDecoder) { self.decoder = decoder }
    func feed(_ token: Int32) -> String { decoder.push(UInt32(bitPattern: token)) }
    func finish() -> String { decoder.finish() }
}
