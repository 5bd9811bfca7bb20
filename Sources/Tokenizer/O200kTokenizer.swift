// The public tokenizer: o200k BPE ranks + special tokens, immutable and shareable across threads.
// Encoding = split on allowed special tokens, pre-tokenize each text segment (PreTokenizer), BPE each
// piece (RankTable.encodePiece). Decoding concatenates token bytes; see StreamDecoder for streaming.
import EmbeddedData
import Foundation

public final class O200kTokenizer: Sendable {
    let ranks: RankTable
    /// The special tokens this tokenizer knows (o200k_harmony's by default).
    public let specialTokens: SpecialTokens
    private let allSpecials: SpecialMatcher

    /// Number of ordinary (mergeable) tokens: their ids are 0..<ordinaryTokenCount.
    public var ordinaryTokenCount: Int { ranks.count }
    /// One past the largest id (201088 for o200k_harmony).
    public var vocabularySize: Int {
        max(ranks.count, Int(specialTokens.nameByID.keys.max().map { $0 + 1 } ?? 0))
    }

    init(ranks: RankTable, specialTokens: SpecialTokens) {
        self.ranks = ranks
        self.specialTokens = specialTokens
        self.allSpecials = SpecialMatcher(names: specialTokens.idsByName)
    }

    private static let sharedHarmony = Result<O200kTokenizer, Error> {
        let blob = UnsafeRawBufferPointer(start: gptoss_o200k_base_ptr(), count: gptoss_o200k_base_len())
        let table = try TiktokenFile.parse(blob, path: "<embedded o200k_base.tiktoken>")
        return O200kTokenizer(ranks: table, specialTokens: .harmony)
    }

    /// o200k_harmony: the o200k_base ranks embedded in the binary plus the harmony special tokens.
    /// Parsed once per process; every call returns the same instance.
    public static func harmony() throws -> O200kTokenizer {
        try sharedHarmony.get()
    }

    /// Loads the ranks from a tiktoken `.tiktoken` file (`<base64> <rank>` lines).
    public convenience init(tiktokenFile path: String, specialTokens: SpecialTokens = .harmony) throws {
        let table = try TiktokenFile.load(path: path)
        try RankTable.checkAllBytes(table, path: path)
        self.init(ranks: table, specialTokens: specialTokens)
    }

    /// Loads the ranks from a Hugging Face `tokenizer.json` (byte-level BPE as gpt-oss checkpoints ship
    /// it). Its `added_tokens` are added to `specialTokens`.
    public convenience init(huggingFaceTokenizerJSON path: String, specialTokens: SpecialTokens = .harmony) throws {
        let parsed = try HuggingFaceTokenizerJSON.load(path: path)
        try RankTable.checkAllBytes(parsed.ranks, path: path)
        self.init(ranks: parsed.ranks, specialTokens: specialTokens.merging(parsed.addedTokens))
    }

    /// Loads a `.tiktoken` or `tokenizer.json` file, chosen by its extension (`.json` = Hugging Face).
    public convenience init(vocabularyFile path: String, specialTokens: SpecialTokens = .harmony) throws {
        if path.hasSuffix(".json") {
            try self.init(huggingFaceTokenizerJSON: path, specialTokens: specialTokens)
        } else {
            try self.init(tiktokenFile: path, specialTokens: specialTokens)
        }
    }

    // MARK: Encoding

    /// Encodes text with no special-token parsing: `<|start|>` in the text is ordinary text.
    public func encodeOrdinary(_ text: String) -> [UInt32] {
        var out = [UInt32]()
        withPadded(text.utf8) { encodeOrdinary($0, into: &out) }
        return out
    }

    /// Encodes text, turning the allowed special-token strings into their ids (everything else,
    /// including special-token strings that are not allowed, is ordinary text).
    /// Throws `unknownSpecialToken` when `allowedSpecial` names a string that is not a special token.
    public func encode(_ text: String, allowedSpecial: AllowedSpecial = .none) throws -> [UInt32] {
        let matcher = try matcher(for: allowedSpecial)
        var out = [UInt32]()
        withPadded(text.utf8) { encode($0, matcher: matcher, into: &out) }
        return out
    }

    /// `encode` with the allowed special-token names given as a set.
    public func encode(_ text: String, allowedSpecial: Set<String>) throws -> [UInt32] {
        try encode(text, allowedSpecial: .only(allowedSpecial))
    }

    /// Encodes UTF-8 bytes; throws `invalidUTF8` (with the offset of the first bad byte) if they are
    /// not valid UTF-8.
    public func encode(utf8 bytes: [UInt8], allowedSpecial: AllowedSpecial = .none) throws -> [UInt32] {
        let matcher = try matcher(for: allowedSpecial)
        if let bad = bytes.withUnsafeBufferPointer({ UTF8Support.firstInvalidOffset($0) }) {
            throw TokenizerError.invalidUTF8(byteOffset: bad)
        }
        var out = [UInt32]()
        withPadded(bytes) { encode($0, matcher: matcher, into: &out) }
        return out
    }

    private func matcher(for allowed: AllowedSpecial) throws -> SpecialMatcher {
        switch allowed {
        case .all:
            return allSpecials
        case .only(let names):
            guard let matcher = allSpecials.restricted(to: names) else {
                throw TokenizerError.unknownSpecialToken(allSpecials.firstUnknown(in: names) ?? "")
            }
            return matcher
        }
    }

    private func withUTF8(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if let done: Void = text.utf8.withContiguousStorageIfAvailable(body) { return done }
        Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// Runs `body` on a copy of the bytes followed by `RankTable.readPadding` zero bytes, as the rank
    /// table's lookups require.
    private func withPadded<C: Collection>(_ bytes: C, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows
        where C.Element == UInt8 {
        let n = bytes.count
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n + RankTable.readPadding) {
            (buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Void in
            let copied: Bool? = bytes.withContiguousStorageIfAvailable { (src: UnsafeBufferPointer<UInt8>) -> Bool in
                if let base = src.baseAddress { buffer.baseAddress!.initialize(from: base, count: n) }
                return true
            }
            if copied == nil {
                var i = 0
                for b in bytes { buffer[i] = b; i += 1 }
            }
            (buffer.baseAddress! + n).initialize(repeating: 0, count: RankTable.readPadding)
            try body(UnsafeBufferPointer(start: buffer.baseAddress!, count: n))
        }
    }

    /// `text` is padded as `withPadded` makes it.
    private func encode(_ text: UnsafeBufferPointer<UInt8>, matcher: SpecialMatcher, into out: inout [UInt32]) {
        if matcher.isEmpty { return encodeOrdinary(text, into: &out) }
        var start = 0
        while let match = matcher.nextMatch(in: text, from: start) {
            encodeOrdinary(UnsafeBufferPointer(rebasing: text[start..<match.start]), into: &out)
            out.append(match.id)
            start = match.end
        }
        encodeOrdinary(UnsafeBufferPointer(rebasing: text[start...]), into: &out)
    }

    /// Pre-tokenizes and BPE-encodes valid UTF-8 text; `RankTable.readPadding` bytes past its end
    /// must be readable.
    func encodeOrdinary(_ text: UnsafeBufferPointer<UInt8>, into out: inout [UInt32]) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        out.reserveCapacity(out.count + text.count / 4)
        let scanner = PreTokenizer(text)
        var p = 0
        let n = text.count
        while p < n {
            let e = scanner.pieceEnd(from: p)
            ranks.encodePiece(base + p, e - p, into: &out)
            p = e
        }
    }

    /// The pre-tokenized pieces of `text` (for tests and debugging).
    public func pieces(_ text: String) -> [String] {
        var result = [String]()
        withUTF8(text) { buffer in
            let scanner = PreTokenizer(buffer)
            var p = 0
            while p < buffer.count {
                let e = scanner.pieceEnd(from: p)
                result.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[p..<e]), as: UTF8.self))
                p = e
            }
        }
        return result
    }

    // MARK: Decoding

    /// The id of a special token's name (e.g. `<|start|>` -> 200006), or nil.
    public func specialTokenID(_ name: String) -> UInt32? { specialTokens.idsByName[name] }

    /// Whether `id` is a special token.
    public func isSpecial(_ id: UInt32) -> Bool { Int(id) >= ranks.count && specialTokens.nameByID[id] != nil }

    /// Whether `id` has bytes (an ordinary token or a special token).
    public func isKnown(_ id: UInt32) -> Bool { Int(id) < ranks.count || specialTokens.nameByID[id] != nil }

    /// The bytes of one token: an ordinary token's bytes, a special token's name (200018 ->
    /// `<|endofprompt|>`), or U+FFFD's bytes for an id this tokenizer does not know.
    public func tokenBytes(_ id: UInt32) -> [UInt8] {
        var out = [UInt8]()
        appendBytes(of: id, to: &out)
        return out
    }

    @inline(__always)
    func appendBytes(of id: UInt32, to out: inout [UInt8]) {
        if Int(id) < ranks.count {
            ranks.withBytes(ofRank: Int(id)) { out.append(contentsOf: $0) }
        } else if let name = specialTokens.nameByID[id] {
            out.append(contentsOf: name.utf8)
        } else {
            out.append(contentsOf: [0xEF, 0xBF, 0xBD])
        }
    }

    /// Concatenated bytes of the tokens (unknown ids give U+FFFD's bytes; see `tokenBytes`).
    public func decodeBytes(_ ids: [UInt32]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, to: &out) }
        return out
    }

    /// Text of the tokens; invalid UTF-8 becomes one U+FFFD per maximal invalid subpart (as tiktoken).
    public func decode(_ ids: [UInt32]) -> String {
        decodeBytes(ids).withUnsafeBufferPointer { UTF8Support.lossyString($0) }
    }

    /// A decoder for streaming that holds back the bytes of an unfinished UTF-8 sequence.
    public func makeStreamDecoder() -> StreamDecoder { StreamDecoder(tokenizer: self) }
}

extension RankTable {
    /// Every byte must be a token by itself, or BPE could not encode arbitrary text.
    static func checkAllBytes(_ table: RankTable, path: String) throws {
        if let missing = table.byteRanks.firstIndex(of: RankTable.noRank) {
            throw TokenizerError.missingByteToken(path: path, byte: UInt8(missing))
        }
    }
}
