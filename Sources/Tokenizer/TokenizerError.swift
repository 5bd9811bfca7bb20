// Typed errors of the Tokenizer module: vocabulary loading (file, line, what was wrong) and encode input.
import Foundation

public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// The vocabulary file could not be read (missing, unreadable).
    case vocabularyUnreadable(path: String, reason: String)
    /// A line of a `.tiktoken` file is malformed. `line` is 1-based.
    case malformedVocabularyLine(path: String, line: Int, problem: String)
    /// Two entries of a vocabulary map to the same rank (id).
    case duplicateRank(path: String, line: Int, rank: UInt32)
    /// Two entries of a vocabulary have the same token bytes.
    case duplicateToken(path: String, line: Int, rank: UInt32)
    /// The ranks of a vocabulary do not form 0..<count (a hole at `missingRank`).
    case nonContiguousRanks(path: String, count: Int, missingRank: UInt32)
    /// The vocabulary file ends in the middle of a line or holds no entries.
    case truncatedVocabulary(path: String, line: Int, problem: String)
    /// The vocabulary has no single-byte token for `byte`, so some text could not be encoded.
    case missingByteToken(path: String, byte: UInt8)
    /// A Hugging Face `tokenizer.json` is not valid JSON or lacks a field we need.
    case malformedTokenizerJSON(path: String, problem: String)
    /// A Hugging Face `tokenizer.json` describes a tokenizer this module does not implement.
    case unsupportedTokenizerJSON(path: String, problem: String)
    /// Text given to `encode` as bytes is not valid UTF-8.
    case invalidUTF8(byteOffset: Int)
    /// `allowedSpecial` named a string that is not a special token of this tokenizer.
    case unknownSpecialToken(String)

    public var description: String {
        switch self {
        case let .vocabularyUnreadable(path, reason):
            return "cannot read vocabulary file \(path): \(reason)"
        case let .malformedVocabularyLine(path, line, problem):
            return "\(path):\(line): malformed vocabulary line: \(problem) (expected '<base64 token bytes> <rank>')"
        case let .duplicateRank(path, line, rank):
            return "\(path):\(line): rank \(rank) appears twice in the vocabulary"
        case let .duplicateToken(path, line, rank):
            return "\(path):\(line): the token bytes of rank \(rank) appear twice in the vocabulary"
        case let .nonContiguousRanks(path, count, missingRank):
            return "\(path): \(count) entries but rank \(missingRank) is missing; ranks must be 0..<\(count)"
        case let .truncatedVocabulary(path, line, problem):
            return "\(path):\(line): truncated vocabulary: \(problem)"
        case let .missingByteToken(path, byte):
            return "\(path): byte 0x\(String(byte, radix: 16, uppercase: true)) has no token of its own; a BPE vocabulary needs all 256 single bytes"
        case let .malformedTokenizerJSON(path, problem):
            return "\(path): malformed tokenizer.json: \(problem)"
        case let .unsupportedTokenizerJSON(path, problem):
            return "\(path): unsupported tokenizer.json: \(problem) (only o200k-style byte-level BPE is implemented)"
        case let .invalidUTF8(offset):
            return "input text is not valid UTF-8 (first bad byte at offset \(offset))"
        case let .unknownSpecialToken(name):
            return "'\(name)' is not a special token of this tokenizer"
        }
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
