// HarmonyStreamParser: sampled token ids → events (message start, text deltas, tool calls, ends).
// Owns: the incremental state machine (expect start → header → content), header parsing as
// openai-harmony does it (recipient in the role part or in the channel part, spec §6.2), and
// recovery from malformed output (a `.malformed` event, never a trap).
// Used by the CLI and the server to produce final text, reasoning_content and tool_calls.
import Tokenizer

/// A parsed message header.
public struct HarmonyHeader: Sendable, Equatable {
    public var role: HarmonyRole
    /// For tool authors, the tool name (`functions.get_weather`).
    public var name: String?
    public var channel: String?
    public var recipient: String?
    /// e.g. `<|constrain|>json` or `code`.
    public var contentType: String?

    public init(role: HarmonyRole, name: String? = nil, channel: String? = nil, recipient: String? = nil,
                contentType: String? = nil) {
        self.role = role; self.name = name; self.channel = channel
        self.recipient = recipient; self.contentType = contentType
    }
}

/// How a message ended.
public enum HarmonyMessageTerminator: Sendable, Equatable {
    case end      // <|end|>
    case `return` // <|return|>: end of the assistant's turn
    case call     // <|call|>: a tool call, the turn pauses for its result
    /// No end token: the stream finished (`finish()`) or a new `<|start|>` came first.
    case interrupted
}

/// A completed (or interrupted) message: header and full text.
public struct HarmonyParsedMessage: Sendable, Equatable {
    public var header: HarmonyHeader
    public var text: String
    public init(header: HarmonyHeader, text: String) { self.header = header; self.text = text }
}

/// A completed tool call: an assistant message with a recipient.
public struct HarmonyToolCall: Sendable, Equatable {
    /// e.g. `functions.get_weather`, `python`, `browser.search`.
    public var recipient: String
    /// The message text, byte for byte (JSON for function tools).
    public var arguments: String
    public var channel: String?
    public var contentType: String?

    public init(recipient: String, arguments: String, channel: String? = nil, contentType: String? = nil) {
        self.recipient = recipient; self.arguments = arguments; self.channel = channel; self.contentType = contentType
    }

    /// The function name when the recipient is `functions.NAME`, else nil.
    public var functionName: String? {
        recipient.hasPrefix("functions.") ? String(recipient.dropFirst("functions.".count)) : nil
    }
}

/// What the parser reports as tokens arrive, in order.
public enum HarmonyStreamEvent: Sendable, Equatable {
    /// A header was parsed (after `<|message|>`).
    case messageStart(HarmonyHeader)
    /// New text of the current message (never empty; UTF-8 split across tokens is held back).
    case textDelta(String, channel: String?, recipient: String?)
    /// The current message ended.
    case messageEnd(HarmonyParsedMessage, HarmonyMessageTerminator)
    /// An assistant message with a recipient ended: a tool call (emitted right after its `.messageEnd`).
    case toolCall(HarmonyToolCall)
    /// `<|return|>` or `<|call|>` ended the turn (emitted last); sampling should stop here.
    case turnEnd(HarmonyMessageTerminator)
    /// The model emitted something that does not follow the grammar; parsing continues.
    case malformed(reason: String, text: String)
}

/// Incremental harmony parser: feed sampled ids with `process`, then `finish`; completed messages
/// and tool calls accumulate in `messages` / `toolCalls`.
public struct HarmonyStreamParser: Sendable {
    /// Longest header accepted, in tokens; a longer one is reported and treated as content.
    public static let maxHeaderTokens = 256

    private enum State {
        case expectStart(reportedJunk: Bool)
        case header(role: HarmonyRole?, tokens: [UInt32])
        case content(HarmonyHeader)
    }

    private let tokenizer: O200kTokenizer
    private var state: State
    /// Holds back the bytes of a UTF-8 character split across tokens.
    private var utf8: StreamDecoder
    private var text = ""

    /// Messages completed so far, in order.
    public private(set) var messages: [HarmonyParsedMessage] = []
    /// Tool calls completed so far.
    public private(set) var toolCalls: [HarmonyToolCall] = []

    /// `role`: the role already written by the prompt (`<|start|>assistant`); pass nil when the
    /// tokens start with `<|start|>`.
    public init(tokenizer: O200kTokenizer, role: HarmonyRole? = .assistant) {
        self.tokenizer = tokenizer
        self.utf8 = tokenizer.makeStreamDecoder()
        self.state = role.map { .header(role: $0, tokens: []) } ?? .expectStart(reportedJunk: false)
    }

    /// The header of the message being received, if its header is complete.
    public var currentHeader: HarmonyHeader? {
        if case .content(let h) = state { return h }
        return nil
    }

    /// Feeds one sampled token id.
    public mutating func process(_ token: UInt32) -> [HarmonyStreamEvent] {
        var events: [HarmonyStreamEvent] = []
        let special = HarmonySpecialToken(rawValue: token)
        switch state {
        case .expectStart(let reported):
            if special == .start {
                state = .header(role: nil, tokens: [])
            } else if !reported {
                events.append(.malformed(reason: "expected <|start|> between messages, got token \(token)",
                                         text: tokenText(token)))
                state = .expectStart(reportedJunk: true)
            }

        case .header(let role, var tokens):
            switch special {
            case .message?:
                let (header, problem) = parseHeader(tokens, role: role)
                if let problem { events.append(.malformed(reason: problem, text: headerText(tokens))) }
                beginContent(header, into: &events)
            case .end?, .return?, .call?:
                events.append(.malformed(reason: "message header ended by \(special!.text) before <|message|>",
                                         text: headerText(tokens)))
                state = .expectStart(reportedJunk: false)
                if special != .end { events.append(.turnEnd(special == .return ? .return : .call)) }
            case .start?:
                events.append(.malformed(reason: "<|start|> inside a message header", text: headerText(tokens)))
                state = .header(role: nil, tokens: [])
            default:
                tokens.append(token)
                if tokens.count > Self.maxHeaderTokens {
                    events.append(.malformed(reason: "message header longer than \(Self.maxHeaderTokens) tokens; treating the rest as content",
                                             text: headerText(tokens)))
                    beginContent(HarmonyHeader(role: role ?? .assistant), into: &events)
                } else {
                    state = .header(role: role, tokens: tokens)
                }
            }

        case .content(let header):
            switch special {
            case .end?: endMessage(header, .end, into: &events)
            case .return?: endMessage(header, .return, into: &events)
            case .call?: endMessage(header, .call, into: &events)
            case .start?:
                events.append(.malformed(reason: "<|start|> before the current message ended", text: ""))
                endMessage(header, .interrupted, into: &events)
                state = .header(role: nil, tokens: [])
            default:
                guard tokenizer.isKnown(token) else {
                    events.append(.malformed(reason: "token id \(token) is outside the vocabulary", text: ""))
                    return events
                }
                let delta = utf8.push(token)
                if !delta.isEmpty {
                    text += delta
                    events.append(.textDelta(delta, channel: header.channel, recipient: header.recipient))
                }
            }
        }
        return events
    }

    /// Feeds several tokens.
    public mutating func process(_ tokens: some Sequence<UInt32>) -> [HarmonyStreamEvent] {
        var events: [HarmonyStreamEvent] = []
        for t in tokens { events += process(t) }
        return events
    }

    /// Ends the stream (e.g. the token limit was reached): flushes held-back bytes and closes an open
    /// message as `.interrupted`.
    public mutating func finish() -> [HarmonyStreamEvent] {
        var events: [HarmonyStreamEvent] = []
        switch state {
        case .content(let header):
            endMessage(header, .interrupted, into: &events)
        case .header(_, let tokens) where !tokens.isEmpty:
            events.append(.malformed(reason: "stream ended inside a message header", text: headerText(tokens)))
            state = .expectStart(reportedJunk: false)
        default:
            break
        }
        return events
    }

    // MARK: helpers

    private mutating func beginContent(_ header: HarmonyHeader, into events: inout [HarmonyStreamEvent]) {
        state = .content(header)
        text = ""
        utf8 = tokenizer.makeStreamDecoder()
        events.append(.messageStart(header))
    }

    private mutating func endMessage(_ header: HarmonyHeader, _ how: HarmonyMessageTerminator,
                                     into events: inout [HarmonyStreamEvent]) {
        let rest = utf8.finish()
        if !rest.isEmpty {
            text += rest
            events.append(.textDelta(rest, channel: header.channel, recipient: header.recipient))
        }
        let msg = HarmonyParsedMessage(header: header, text: text)
        messages.append(msg)
        events.append(.messageEnd(msg, how))
        if header.role == .assistant, let r = header.recipient {
            let call = HarmonyToolCall(recipient: r, arguments: text, channel: header.channel,
                                       contentType: header.contentType)
            toolCalls.append(call)
            events.append(.toolCall(call))
        }
        if how == .return || how == .call { events.append(.turnEnd(how)) }
        text = ""
        state = .expectStart(reportedJunk: false)
    }

    private func tokenText(_ token: UInt32) -> String {
        tokenizer.isKnown(token) ? tokenizer.decode([token]) : ""
    }

    /// Header tokens as text, special tokens written as their names (`<|channel|>`).
    private func headerText(_ tokens: [UInt32]) -> String {
        tokenizer.decode(tokens.filter { tokenizer.isKnown($0) })
    }

    /// Parses header text the way openai-harmony does. Returns a best-effort header and, when the
    /// header breaks the grammar, why.
    private func parseHeader(_ tokens: [UInt32], role expected: HarmonyRole?) -> (HarmonyHeader, String?) {
        HarmonyHeaderParser.parse(headerText(tokens), role: expected)
    }
}

/// Header text → header (openai-harmony's `parse_header_from_string`), with recovery.
enum HarmonyHeaderParser {
    static func parse(_ raw: String, role expected: HarmonyRole?) -> (HarmonyHeader, String?) {
        var s = raw
        var channel: String?
        let channelMarker = HarmonySpecialToken.channel.text
        if let r = s.firstRange(of: channelMarker) {
            let after = s[r.upperBound...]
            let end = after.firstIndex(where: { $0.isWhitespace || $0 == "<" }) ?? after.endIndex
            let value = String(after[..<end])
            if value.isEmpty {
                return (HarmonyHeader(role: expected ?? .assistant), "channel marker present but no channel value in header \"\(raw)\"")
            }
            channel = value
            s = String(s[..<r.lowerBound]) + String(after[end...])
        }
        s = s.trimmingWhitespace()
        let constrain = HarmonySpecialToken.constrain.text
        if s.contains(constrain) {
            s = s.replacingOccurrences(of: constrain, with: " " + constrain).trimmingWhitespace()
        }
        var parts = s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0C}" })
            .map(String.init)

        let role: HarmonyRole
        var toolName: String?
        if let expected {
            role = expected
        } else if let first = parts.first {
            if let r = HarmonyRole(rawValue: first) {
                role = r
            } else if parts.count > 1 || first.hasPrefix("to=") {
                parts.removeFirst()
                role = .tool
                toolName = first
            } else {
                return (HarmonyHeader(role: .assistant, channel: channel), "unknown role \"\(first)\" in message header")
            }
        } else {
            return (HarmonyHeader(role: .assistant, channel: channel), "message header has no role")
        }
        if let first = parts.first, first == role.rawValue { parts.removeFirst() }

        var header = HarmonyHeader(role: role, name: toolName, channel: channel)
        if !parts.isEmpty {
            let count = parts.count
            let last = parts.removeLast()
            if last.hasPrefix("to=") {
                header.recipient = String(last.dropFirst(3))
            } else if count == 1 && !last.hasPrefix(constrain) {
                header.recipient = last
            } else {
                header.contentType = last
                if let raw = parts.popLast() {
                    header.recipient = raw.hasPrefix("to=") ? String(raw.dropFirst(3)) : raw
                }
            }
        }
        if !parts.isEmpty {
            return (header, "unexpected text in message header: \"\(parts.joined(separator: " "))\"")
        }
        return (header, nil)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var sub = Substring(self)
        while let f = sub.first, f.isWhitespace { sub.removeFirst() }
        while let l = sub.last, l.isWhitespace { sub.removeLast() }
        return String(sub)
    }

    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}
