// Harmony conversation model: the messages the renderer turns into tokens (mirrors openai-harmony's
// chat types: Author, Message, SystemContent, DeveloperContent, ToolDescription).
// Owns: the value types only. Building them from a chat-completions request is in
// ChatRequest+Harmony.swift; rendering is in HarmonyRenderer.swift.

/// Author role of a harmony message (spec §6.1).
public enum HarmonyRole: String, Sendable, Equatable, CaseIterable {
    case system, developer, user, assistant, tool
}

/// Reasoning effort written into the system message (`Reasoning: low|medium|high`).
public enum ReasoningEffort: String, Sendable, Equatable, CaseIterable {
    case low, medium, high
}

/// A message author. For `.tool` the name (e.g. `functions.get_weather`) is what the header shows.
public struct HarmonyAuthor: Sendable, Equatable {
    public var role: HarmonyRole
    public var name: String?
    public init(_ role: HarmonyRole, name: String? = nil) { self.role = role; self.name = name }
}

/// One function tool: name, description (may be empty) and its JSON-schema parameters as given.
public struct ToolDescription: Sendable, Equatable {
    public var name: String
    public var description: String
    /// nil: no parameters (`() => any`); otherwise the schema, key order preserved.
    public var parameters: JSONValue?
    public init(name: String, description: String, parameters: JSONValue?) {
        self.name = name; self.description = description; self.parameters = parameters
    }
}

/// A tool namespace (we only build `functions`).
public struct ToolNamespace: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var tools: [ToolDescription]
    public init(name: String, description: String? = nil, tools: [ToolDescription]) {
        self.name = name; self.description = description; self.tools = tools
    }
}

/// The generated system message content (spec §6.3).
public struct SystemContent: Sendable, Equatable {
    public var modelIdentity: String? = "You are ChatGPT, a large language model trained by OpenAI."
    public var reasoningEffort: ReasoningEffort? = .medium
    /// `YYYY-MM-DD`; nil means no `Current date:` line.
    public var conversationStartDate: String? = nil
    public var knowledgeCutoff: String? = "2024-06"
    public var validChannels: [String] = ["analysis", "commentary", "final"]
    public var channelRequired = true
    /// Built-in tool namespaces (browser, python); rendered in the system message. Sorted by name.
    public var tools: [ToolNamespace] = []
    public init() {}
}

/// Developer message content (spec §6.4): instructions and function tools.
public struct DeveloperContent: Sendable, Equatable {
    public var instructions: String?
    /// Namespaces in the order they are rendered (harmony sorts by name; we keep `functions` only).
    public var tools: [ToolNamespace]
    public init(instructions: String? = nil, tools: [ToolNamespace] = []) {
        self.instructions = instructions; self.tools = tools
    }
}

/// One content item of a message. A message with several text items renders them one after
/// another, each tokenized on its own.
public enum HarmonyContent: Sendable, Equatable {
    case text(String)
    case system(SystemContent)
    case developer(DeveloperContent)
}

/// One harmony message: author, content items, optional channel and recipient (spec §6.2).
public struct HarmonyMessage: Sendable, Equatable {
    public var author: HarmonyAuthor
    public var content: [HarmonyContent]
    public var channel: String?
    public var recipient: String?
    /// e.g. `<|constrain|>json` or `code`.
    public var contentType: String?

    public init(author: HarmonyAuthor, content: [HarmonyContent], channel: String? = nil,
                recipient: String? = nil, contentType: String? = nil) {
        self.author = author; self.content = content; self.channel = channel
        self.recipient = recipient; self.contentType = contentType
    }

    public init(_ role: HarmonyRole, _ text: String, channel: String? = nil) {
        self.init(author: HarmonyAuthor(role), content: [.text(text)], channel: channel)
    }
}

public struct HarmonyConversation: Sendable, Equatable {
    public var messages: [HarmonyMessage]
    public init(_ messages: [HarmonyMessage]) { self.messages = messages }
}

/// The `Current date:` value format.
public enum HarmonyDate {
    /// `YYYY-MM-DD` with a real month and day (leap years included).
    public static func isValid(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return false }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return d <= days
    }
}
