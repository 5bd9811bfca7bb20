// What crosses the engine seam: a request made of token ids only (the engine never sees text), the
// events streamed back for it, and the typed errors `submit` throws.
import Core

/// Identifies one submitted request for `cancel` and in logs. Unique within one engine.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "req-\(rawValue)" }
}

/// One generation: prompt ids in, sampled ids out.
public struct GenerationRequest: Sendable, Equatable {
    /// The rendered prompt (harmony or raw ids). Must be non-empty and shorter than the context.
    public var promptTokens: [Int32]
    public var sampling: SamplingParams
    /// Upper bound on sampled tokens (the stop token counts as one). 0 finishes at once with `.length`.
    /// The context also bounds it: a sequence never grows past `maxContext`.
    public var maxTokens: Int
    /// Sampling one of these ends the request with `.stop`; the stop token is still streamed (harmony's
    /// parser needs `<|return|>` / `<|call|>` to close the message) and counted in the usage.
    public var stopTokens: Set<Int32>

    public init(promptTokens: [Int32], sampling: SamplingParams = .greedy, maxTokens: Int,
                stopTokens: Set<Int32> = []) {
        self.promptTokens = promptTokens; self.sampling = sampling
        self.maxTokens = maxTokens; self.stopTokens = stopTokens
    }
}

public enum FinishReason: String, Sendable, Equatable, Codable {
    /// A stop token was sampled.
    case stop
    /// `maxTokens` reached, or the context is full.
    case length
    /// `cancel(id)`, the consumer dropped the stream, or the engine shut down.
    case cancelled
}

/// Token counts in OpenAI's sense.
public struct Usage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }
    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens; self.completionTokens = completionTokens
    }
}

/// Wall-clock phases of one request, in seconds (monotonic clock).
public struct GenerationTimings: Sendable, Equatable {
    /// Submit → admitted into a KV slot.
    public var queueSeconds: Double
    /// Submit → first sampled token (includes queueing and prefill). nil when no token was sampled.
    public var timeToFirstTokenSeconds: Double?
    /// First sampled token → finish: the decode phase. 0 when fewer than two tokens were sampled.
    public var decodeSeconds: Double
    /// Submit → finish.
    public var totalSeconds: Double

    /// Tokens per second over the decode phase (tokens after the first / decode time); nil if undefined.
    public func decodeTokensPerSecond(completionTokens: Int) -> Double? {
        guard completionTokens > 1, decodeSeconds > 0 else { return nil }
        return Double(completionTokens - 1) / decodeSeconds
    }
}

/// The end of a request.
public struct GenerationSummary: Sendable, Equatable {
    public var reason: FinishReason
    /// The stop token that ended the request (reason `.stop`).
    public var stopToken: Int32?
    public var usage: Usage
    public var timings: GenerationTimings
}

/// What the token stream carries: sampled ids as they come, then exactly one `.finished`.
/// A backend failure ends the stream by throwing `EngineError.backendFailed` instead.
public enum GenerationEvent: Sendable, Equatable {
    case tokens([Int32])
    case finished(GenerationSummary)
}

/// Why `submit` refused a request (or, for `backendFailed`, why its stream ended with an error).
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case emptyPrompt
    case promptTooLong(promptTokens: Int, maxContext: Int)
    case invalidMaxTokens(Int)
    case tokenOutOfRange(token: Int32, index: Int, vocabSize: Int)
    case shuttingDown
    case backendFailed(String)

    public var description: String {
        switch self {
        case .emptyPrompt:
            return "the prompt is empty: give at least one token"
        case let .promptTooLong(n, ctx):
            return "the prompt has \(n) tokens but the model's context holds \(ctx) (prompt plus output); shorten the prompt"
        case let .invalidMaxTokens(n):
            return "max tokens must be 0 or more, got \(n)"
        case let .tokenOutOfRange(t, i, v):
            return "prompt token \(t) at index \(i) is outside the vocabulary (0..<\(v))"
        case .shuttingDown:
            return "the engine is shutting down and accepts no new requests"
        case let .backendFailed(message):
            return "the backend failed during a step: \(message)"
        }
    }
}
