// HarmonyCompletion: stream-parser events → the pieces of a chat-completions answer.
// Owns: routing text by channel (analysis → reasoning_content, final → content, commentary without a
// recipient → preamble), collecting tool calls, and the finish reason. Shared by the CLI and the server
// so both report a completion the same way.

/// OpenAI `finish_reason` for a harmony turn.
public enum HarmonyFinishReason: String, Sendable, Equatable {
    /// `<|return|>`: the assistant finished its answer.
    case stop
    /// `<|call|>` after a function tool call.
    case toolCalls = "tool_calls"
    /// No end of turn yet (token limit reached, or the stream was cut).
    case length
}

/// The chat-completions answer assembled from stream-parser events.
public struct HarmonyCompletion: Sendable, Equatable {
    /// Text of `analysis` messages that are not tool calls (→ `reasoning_content`).
    public private(set) var reasoning = ""
    /// Text of `final` messages (→ `content`).
    public private(set) var content = ""
    /// Text of `commentary` messages without a recipient (user-visible preambles before tool calls).
    public private(set) var preamble = ""
    public private(set) var toolCalls: [HarmonyToolCall] = []
    /// How the turn ended, once it has.
    public private(set) var turnEnd: HarmonyMessageTerminator?
    /// Problems reported by the parser (`.malformed` reasons), in order.
    public private(set) var problems: [String] = []

    public init() {}

    /// Builds a completion from all events of a turn.
    public init(events: [HarmonyStreamEvent]) {
        self.init()
        for e in events { apply(e) }
    }

    /// Where a text delta belongs; nil for tool-call arguments and other channels.
    public enum Destination: Sendable, Equatable { case reasoning, content, preamble }

    public static func destination(channel: String?, recipient: String?) -> Destination? {
        guard recipient == nil else { return nil }
        switch channel {
        case "analysis": return .reasoning
        case "final", nil: return .content
        case "commentary": return .preamble
        default: return nil
        }
    }

    public mutating func apply(_ event: HarmonyStreamEvent) {
        switch event {
        case .textDelta(let text, let channel, let recipient):
            switch Self.destination(channel: channel, recipient: recipient) {
            case .reasoning?: reasoning += text
            case .content?: content += text
            case .preamble?: preamble += text
            case nil: break
            }
        case .toolCall(let call):
            toolCalls.append(call)
        case .turnEnd(let how):
            turnEnd = how
        case .malformed(let reason, _):
            problems.append(reason)
        case .messageStart, .messageEnd:
            break
        }
    }

    public var finishReason: HarmonyFinishReason {
        switch turnEnd {
        case .call?: return toolCalls.isEmpty ? .stop : .toolCalls
        case .return?, .end?, .interrupted?: return .stop
        case nil: return .length
        }
    }
}
