// Prompts as the engine wants them: harmony-rendered chat requests (text → ids once, here), raw token
// lists for --prompt-tokens, the stop set, and the JSON shapes the CLI prints.
import Core
import Engine
import Harmony
import Tokenizer

enum Prompt {
    /// Assistant sampling stops on `<|return|>` and `<|call|>` (spec §6.5).
    static let stopTokens: Set<Int32> = Set(HarmonyRenderer.stopTokens.map { Int32(bitPattern: $0) })

    /// Ids prompting the assistant for a chat request (ends with `<|start|>assistant`).
    static func render(_ request: ChatRequest, tokenizer: O200kTokenizer) -> [Int32] {
        HarmonyRenderer().renderForCompletion(request, encoder: tokenizer)
            .map { Int32(bitPattern: $0) }
    }

    /// A one-message conversation.
    static func userRequest(_ text: String, effort: Effort) -> ChatRequest {
        ChatRequest(messages: [.user(parts: [text], name: nil)], reasoningEffort: effort.harmony)
    }

    /// "1,2, 3" → [1, 2, 3]; anything else is a clear error.
    static func parseTokenList(_ text: String, option: String = "--prompt-tokens") throws -> [Int32] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var ids: [Int32] = []
        for (i, p) in parts.enumerated() {
            guard let v = Int32(p), v >= 0 else {
                throw RuntimeError(description: "\(option): item \(i + 1) (\"\(p)\") is not a token id; expected comma-separated non-negative integers like 200006,1844")
            }
            ids.append(v)
        }
        return ids
    }

    /// A clear error when a prompt cannot fit the context.
    static func checkFits(_ ids: [Int32], engine: GenerationService, what: String = "the prompt") throws {
        if ids.count >= engine.maxContext {
            throw RuntimeError(description: "\(what) is \(ids.count) tokens but the context holds \(engine.maxContext) (prompt plus output)\nhint: shorten it, or raise --context (the model allows up to its max_position_embeddings)")
        }
    }
}

extension Effort {
    var harmony: ReasoningEffort {
        switch self {
        case .low: return .low
        case .medium: return .medium
        case .high: return .high
        }
    }
}

/// JSON for --json and batch output, keys in a fixed order.
enum OutputJSON {
    static func usage(_ u: Usage) -> JSON {
        ["prompt_tokens": .number(JSONNumber(u.promptTokens)),
         "completion_tokens": .number(JSONNumber(u.completionTokens)),
         "total_tokens": .number(JSONNumber(u.totalTokens))]
    }

    static func tokens(_ ids: [Int32]) -> JSON { .array(ids.map { .number(JSONNumber(Int($0))) }) }

    static func number(_ d: Double?) -> JSON {
        guard let d, d.isFinite else { return .null }
        return .number(JSONNumber((d * 1e6).rounded() / 1e6))
    }

    static func toolCalls(_ calls: [HarmonyToolCall]) -> JSON {
        .array(calls.map { ["recipient": .string($0.recipient), "arguments": .string($0.arguments)] })
    }
}

/// Harmony's order-preserving JSON tree (Core has its own, unordered one for config files).
typealias JSON = Harmony.JSONValue
