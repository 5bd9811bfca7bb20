// The seam between the HTTP routes and text: a `ChatFormat` turns a request body into prompt token ids
// (parsing with field-path errors, rendering the harmony prompt or encoding a raw prompt) and turns
// sampled ids back into events (reasoning, content, tool calls) or text. The routes never parse JSON
// bodies or see a tokenizer; `HarmonyChatFormat` is the real implementation, tests use a stub.

/// The request fields every generation route honours, as the format parsed them (types checked,
/// ranges not yet: the routes validate those so every format reports them the same way).
public struct CompletionOptions: Sendable, Equatable {
    public var model: String?
    /// `max_completion_tokens` if given, else `max_tokens`.
    public var maxTokens: Int?
    /// Which of the two fields `maxTokens` came from (for error messages).
    public var maxTokensField: String
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int?
    /// Stop strings (a single string becomes one element).
    public var stop: [String]
    public var stream: Bool
    /// `stream_options.include_usage`.
    public var includeUsage: Bool
    public var n: Int?

    public init(model: String? = nil, maxTokens: Int? = nil, maxTokensField: String = "max_tokens",
                temperature: Double? = nil, topP: Double? = nil, seed: Int? = nil, stop: [String] = [],
                stream: Bool = false, includeUsage: Bool = false, n: Int? = nil) {
        self.model = model; self.maxTokens = maxTokens; self.maxTokensField = maxTokensField
        self.temperature = temperature; self.topP = topP; self.seed = seed; self.stop = stop
        self.stream = stream; self.includeUsage = includeUsage; self.n = n
    }
}

/// A chat-completions request ready for the engine.
public struct PreparedChat: Sendable {
    public var options: CompletionOptions
    /// The rendered prompt, ending where the assistant's reply starts.
    public var promptTokens: [Int32]
    /// Sampling one of these ends the turn (harmony: `<|return|>`, `<|call|>`).
    public var stopTokens: Set<Int32>
    /// A function the prompt already addressed the reply to (`tool_choice` naming a function): the
    /// model only writes that call's arguments.
    public var forcedFunction: String?

    public init(options: CompletionOptions, promptTokens: [Int32], stopTokens: Set<Int32>,
                forcedFunction: String? = nil) {
        self.options = options; self.promptTokens = promptTokens; self.stopTokens = stopTokens
        self.forcedFunction = forcedFunction
    }
}

/// A completions (raw prompt) request ready for the engine.
public struct PreparedCompletion: Sendable {
    public var options: CompletionOptions
    public var promptTokens: [Int32]
    /// `echo`: the prompt text is returned before the completion.
    public var echo: Bool
    public var promptText: String

    public init(options: CompletionOptions, promptTokens: [Int32], echo: Bool = false, promptText: String = "") {
        self.options = options; self.promptTokens = promptTokens; self.echo = echo; self.promptText = promptText
    }
}

/// What the model's reply means, piece by piece.
public enum ChatOutputEvent: Sendable, Equatable {
    /// Text of the analysis channel (returned as `reasoning_content`).
    case reasoning(String)
    /// Text for the user (final channel, or commentary without a recipient).
    case content(String)
    /// A function call starts (its arguments follow).
    case toolCallBegin(name: String)
    case toolCallArguments(String)
    case toolCallEnd
    /// The model ended its turn: with `<|call|>` (a tool call waits for its result) or `<|return|>`.
    case turnEnd(toolCall: Bool)
}

/// Sampled ids → chat events, one request at a time.
public protocol ChatOutputParser: AnyObject {
    func feed(_ token: Int32) -> [ChatOutputEvent]
    /// The stream ended (length limit, stop string): flush held-back text and close an open call.
    func finish() -> [ChatOutputEvent]
}

/// Sampled ids → text (UTF-8 split across tokens held back), for /v1/completions.
public protocol TextStreamDecoder: AnyObject {
    func feed(_ token: Int32) -> String
    func finish() -> String
}

public protocol ChatFormat: Sendable {
    /// Parses and renders a chat-completions body. Throws `APIError` (400, with the field path as
    /// `param`) for invalid JSON, missing or mistyped fields.
    func prepareChat(body: [UInt8]) throws -> PreparedChat
    /// Parses a completions body and encodes its prompt (a string, or an array of token ids).
    func prepareCompletion(body: [UInt8]) throws -> PreparedCompletion
    func makeChatParser(for chat: PreparedChat) -> any ChatOutputParser
    func makeTextDecoder() -> any TextStreamDecoder
}
