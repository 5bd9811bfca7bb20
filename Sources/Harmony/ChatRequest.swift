// ChatRequest: the OpenAI chat-completions request body we accept everywhere (render tool, chat mode,
// server, batch JSONL), plus its typed errors.
// Owns: the request value types. Parsing from JSON is in ChatRequestParser.swift; the mapping to a
// harmony conversation is in ChatRequest+Harmony.swift (documented in docs/harmony-mapping.md).

/// A function tool from `tools: [{"type": "function", "function": {...}}]`.
public struct ChatTool: Sendable, Equatable {
    public var name: String
    /// Missing description → "".
    public var description: String
    /// The JSON schema exactly as given (key order kept); nil when `parameters` is missing or null.
    public var parameters: JSONValue?
    public var strict: Bool?
    public init(name: String, description: String = "", parameters: JSONValue? = nil, strict: Bool? = nil) {
        self.name = name; self.description = description; self.parameters = parameters; self.strict = strict
    }
}

/// One call in an assistant message's `tool_calls`.
public struct ChatToolCall: Sendable, Equatable {
    public var id: String?
    public var name: String
    /// The arguments string, byte for byte as given.
    public var arguments: String
    public init(id: String?, name: String, arguments: String) { self.id = id; self.name = name; self.arguments = arguments }
}

/// An assistant turn of the history: reasoning, text and tool calls.
public struct ChatAssistantMessage: Sendable, Equatable {
    /// `reasoning_content`; nil when null, missing or "".
    public var reasoning: String?
    /// Text parts of `content` (a string is one part); empty when null, missing or "".
    public var content: [String]
    public var toolCalls: [ChatToolCall]
    public init(reasoning: String? = nil, content: [String] = [], toolCalls: [ChatToolCall] = []) {
        self.reasoning = reasoning; self.content = content; self.toolCalls = toolCalls
    }
}

public struct ChatToolMessage: Sendable, Equatable {
    public var toolCallID: String?
    /// The function name: the message's `name`, else the name of the call its `tool_call_id` answers.
    public var name: String
    /// Text parts of `content` (a string is one part).
    public var content: [String]
    public init(toolCallID: String?, name: String, content: [String]) {
        self.toolCallID = toolCallID; self.name = name; self.content = content
    }
}

/// One message of a chat-completions request, by role.
public enum ChatMessage: Sendable, Equatable {
    /// Text of a system message (array parts concatenated); nil when null/missing/"".
    case system(String?)
    /// Text of a developer message (array parts concatenated); nil when null/missing/"".
    case developer(String?)
    /// Text parts (a string is one part; "" is kept and rendered) and the optional `name`.
    case user(parts: [String], name: String?)
    case assistant(ChatAssistantMessage)
    case tool(ChatToolMessage)

    public var role: String {
        switch self {
        case .system: return "system"
        case .developer: return "developer"
        case .user: return "user"
        case .assistant: return "assistant"
        case .tool: return "tool"
        }
    }
}

/// `stream_options`.
public struct ChatStreamOptions: Sendable, Equatable {
    public var includeUsage: Bool
    public init(includeUsage: Bool = false) { self.includeUsage = includeUsage }
}

/// A parsed chat-completions request. Only `messages`, `tools` and `reasoning_effort` affect
/// rendering; the sampling fields are kept for the server and the CLI.
public struct ChatRequest: Sendable, Equatable {
    public var model: String?
    public var messages: [ChatMessage]
    public var tools: [ChatTool]
    /// Missing or null → medium.
    public var reasoningEffort: ReasoningEffort
    public var toolChoice: JSONValue?
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int?
    /// `stop` as a list (a single string becomes one element; null/missing → empty).
    public var stop: [String]
    public var stream: Bool
    public var streamOptions: ChatStreamOptions?
    public var n: Int?
    /// The whole body as parsed, for fields this type does not model.
    public var body: JSONObject

    public init(messages: [ChatMessage], tools: [ChatTool] = [], reasoningEffort: ReasoningEffort = .medium) {
        self.model = nil
        self.messages = messages
        self.tools = tools
        self.reasoningEffort = reasoningEffort
        self.toolChoice = nil
        self.maxTokens = nil
        self.maxCompletionTokens = nil
        self.temperature = nil
        self.topP = nil
        self.seed = nil
        self.stop = []
        self.stream = false
        self.streamOptions = nil
        self.n = nil
        self.body = JSONObject()
    }

    /// `max_completion_tokens` if given, else `max_tokens`.
    public var completionTokenLimit: Int? { maxCompletionTokens ?? maxTokens }
}

/// Why a request body was rejected. Every case names the field path (`messages[2].role`).
public enum ChatRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidJSON(JSONParseError)
    case wrongType(path: String, expected: String, found: String)
    case missingField(path: String)
    case unknownRole(path: String, role: String)
    case invalidValue(path: String, message: String)
    /// A tool message with no `name` whose `tool_call_id` is missing or matches no earlier call.
    case unmatchedToolMessage(path: String, toolCallID: String?)

    public var path: String? {
        switch self {
        case .invalidJSON: return nil
        case .wrongType(let p, _, _), .missingField(let p), .unknownRole(let p, _), .invalidValue(let p, _),
             .unmatchedToolMessage(let p, _):
            return p
        }
    }

    public var description: String {
        switch self {
        case .invalidJSON(let e):
            return "request is not valid JSON: line \(e.line), column \(e.column): \(e.message)"
        case .wrongType(let p, let expected, let found):
            return "\(p): expected \(expected), found \(found)"
        case .missingField(let p):
            return "\(p): required field is missing"
        case .unknownRole(let p, let role):
            return "\(p): unknown role \"\(role)\" (expected system, developer, user, assistant or tool)"
        case .invalidValue(let p, let message):
            return "\(p): \(message)"
        case .unmatchedToolMessage(let p, let id):
            if let id {
                return "\(p): tool message has no \"name\" and its tool_call_id \"\(id)\" matches no earlier assistant tool call"
            }
            return "\(p): tool message needs a \"name\" or a \"tool_call_id\" that matches an earlier assistant tool call"
        }
    }
}
