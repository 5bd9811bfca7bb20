// Harmony's formatting tokens and the seams to the tokenizer.
// Owns: the o200k_harmony special-token ids harmony uses (spec §5.4), the rendered-piece type, and the
// encoder seam the renderer maps text pieces through.
import Tokenizer

/// The o200k_harmony special tokens used by the harmony format. Raw values are token ids.
public enum HarmonySpecialToken: UInt32, Sendable, CaseIterable {
    case `return` = 200002
    case constrain = 200003
    case channel = 200005
    case start = 200006
    case end = 200007
    case message = 200008
    case call = 200012

    public var id: UInt32 { rawValue }

    /// The token's text (`<|start|>`).
    public var text: String {
        switch self {
        case .return: return "<|return|>"
        case .constrain: return "<|constrain|>"
        case .channel: return "<|channel|>"
        case .start: return "<|start|>"
        case .end: return "<|end|>"
        case .message: return "<|message|>"
        case .call: return "<|call|>"
        }
    }
}

/// One unit of a rendered prompt: a special token, or text that is tokenized on its own with
/// encode_ordinary (spec §6.2: never tokenize the concatenation).
public enum HarmonyPiece: Sendable, Equatable {
    case special(HarmonySpecialToken)
    case text(String)
}

extension Array where Element == HarmonyPiece {
    /// The pieces as one string, special tokens written as their text (for display and debugging).
    public var renderedText: String {
        var s = ""
        for p in self {
            switch p {
            case .special(let t): s += t.text
            case .text(let t): s += t
            }
        }
        return s
    }
}

/// Encodes text without recognising special tokens (tiktoken's encode_ordinary). The renderer maps
/// pieces to ids through this seam; `O200kTokenizer` conforms.
public protocol OrdinaryTextEncoder {
    func encodeOrdinary(_ text: String) -> [UInt32]
}

extension O200kTokenizer: OrdinaryTextEncoder {}
