// Loader of a Hugging Face `tokenizer.json` as gpt-oss checkpoints ship it (spec §5.1): a byte-level
// `BPE` model whose vocab keys are token bytes mapped through GPT-2's `bytes_to_unicode` table, with
// ids equal to tiktoken ranks, plus `added_tokens` for the special tokens. The merges list is not read:
// for tiktoken-derived vocabularies the merge priority is the rank, which the vocab already gives.
import Foundation

enum HuggingFaceTokenizerJSON {
    /// The o200k pre-tokenization regex (spec §5.2); the only Split pattern this module implements.
    static let o200kPattern = #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// GPT-2's `bytes_to_unicode`: printable bytes map to themselves, the other 68 to U+0100.. in order.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `byteToScalar` over U+0000..U+0143; 0xFFFF = not in the alphabet.
    static let scalarToByte: [UInt16] = {
        var table = [UInt16](repeating: 0xFFFF, count: 324)
        for (b, s) in byteToScalar.enumerated() { table[Int(s)] = UInt16(b) }
        return table
    }()

    /// The GPT-2 byte-level string of token bytes (how tokenizer.json spells vocab keys).
    static func byteLevelString(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(byteToScalar[Int(b)])!) }
        return String(s)
    }

    struct Parsed {
        let ranks: RankTable
        let addedTokens: SpecialTokens
    }

    static func load(path: String) throws -> Parsed {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"
            throw TokenizerError.vocabularyUnreadable(path: path, reason: reason)
        }
        return try data.withUnsafeBytes { try parse($0.bindMemory(to: UInt8.self), path: path) }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws -> Parsed {
        func malformed(_ problem: String) -> TokenizerError { .malformedTokenizerJSON(path: path, problem: problem) }
        var r = JSONReader(bytes, path: path)
        guard let top = r.peek() else { throw malformed("the file is empty") }
        guard top == UInt8(ascii: "{") else {
            if top == UInt8(ascii: "[") || top == UInt8(ascii: "\"") || top == UInt8(ascii: "-") || (top >= 0x30 && top <= 0x39) {
                throw malformed("the top level is not a JSON object")
            }
            throw r.error("expected '{'")
        }
        var modelType: String? = nil
        var sawModel = false
        var builder: RankTableBuilder? = nil
        var preTokenizer: Any? = nil
        var addedTokens: Any? = nil
        var first = true
        while let key = try r.nextKey(&first) {
            switch key {
            case "model":
                guard r.peek() == UInt8(ascii: "{") else { throw malformed("\"model\" is not an object") }
                sawModel = true
                var firstInModel = true
                while let modelKey = try r.nextKey(&firstInModel) {
                    switch modelKey {
                    case "type": modelType = try r.readValue() as? String
                    case "vocab" where r.peek() == UInt8(ascii: "{"): builder = try readVocab(&r, path: path)
                    default: try r.skipValue()
                    }
                }
            case "pre_tokenizer": preTokenizer = try r.readValue()
            case "added_tokens": addedTokens = try r.readValue()
            default: try r.skipValue()
            }
        }
        try r.expectEnd()
        guard sawModel else { throw malformed("no \"model\" object") }
        if let type = modelType, type != "BPE" {
            throw TokenizerError.unsupportedTokenizerJSON(path: path, problem: "model type \"\(type)\" is not BPE")
        }
        try checkPreTokenizer(preTokenizer, path: path)
        guard let builder else { throw malformed("no \"model.vocab\" object") }

        let table: RankTable
        do {
            table = try builder.build()
        } catch let error as TokenizerError {
            switch error {
            case let .duplicateRank(_, _, rank): throw malformed("two model.vocab keys have id \(rank)")
            case let .duplicateToken(_, _, rank): throw malformed("model.vocab id \(rank) repeats another key's bytes")
            case let .nonContiguousRanks(_, count, missing):
                throw malformed("model.vocab has \(count) ids but id \(missing) is missing; ids must be 0..<\(count)")
            default: throw error
            }
        }

        var added = [(name: String, id: UInt32)]()
        if let value = addedTokens, !(value is NSNull) {
            guard let list = value as? [Any] else { throw malformed("\"added_tokens\" is not an array") }
            for (index, item) in list.enumerated() {
                guard let entry = item as? [String: Any], let content = entry["content"] as? String,
                      let number = entry["id"] as? Double, let id = UInt32(exactly: number)
                else { throw malformed("added_tokens[\(index)] lacks a string \"content\" or an integer \"id\"") }
                added.append((content, id))
            }
        }
        return Parsed(ranks: table, addedTokens: SpecialTokens(added))
    }

    /// Streams `model.vocab` (byte-level key -> id) into a RankTableBuilder.
    private static func readVocab(_ r: inout JSONReader, path: String) throws -> RankTableBuilder {
        func malformed(_ problem: String) -> TokenizerError { .malformedTokenizerJSON(path: path, problem: problem) }
        var builder = RankTableBuilder(path: path, expectedCount: 200_000)
        let inverse = scalarToByte
        var keyBytes = [UInt8]()
        keyBytes.reserveCapacity(256)
        var bad: Unicode.Scalar? = nil
        var first = true
        while true {
            keyBytes.removeAll(keepingCapacity: true)
            bad = nil
            let more = try r.nextKey(&first) { scalar in
                let v = Int(scalar.value)
                if v < inverse.count, inverse[v] != 0xFFFF { keyBytes.append(UInt8(inverse[v])) } else if bad == nil { bad = scalar }
            }
            if !more { break }
            var key: String { byteLevelString(keyBytes) } // for error messages only (omits a bad scalar)
            guard let id = try r.readUInt32() else {
                throw malformed("model.vocab[\(debugQuote(key))] is not a non-negative integer id")
            }
            if keyBytes.isEmpty && bad == nil { throw malformed("model.vocab has an empty key (id \(id))") }
            if let bad {
                throw TokenizerError.unsupportedTokenizerJSON(
                    path: path,
                    problem: "model.vocab key \(debugQuote(key)) (id \(id)) has U+\(String(bad.value, radix: 16, uppercase: true)), which is not in the GPT-2 byte-level alphabet")
            }
            builder.add(rank: id, line: 0) { $0.append(contentsOf: keyBytes) }
        }
        return builder
    }

    /// Accepts no pre-tokenizer, or ones that split with the o200k regex and apply ByteLevel without
    /// its own regex; anything else would tokenize differently from this module.
    private static func checkPreTokenizer(_ value: Any?, path: String) throws {
        guard let pre = value as? [String: Any] else { return }
        var steps: [[String: Any]] = [pre]
        if pre["type"] as? String == "Sequence" { steps = pre["pretokenizers"] as? [[String: Any]] ?? [] }
        for step in steps {
            switch step["type"] as? String {
            case "Split":
                let pattern = (step["pattern"] as? [String: Any])?["Regex"] as? String
                if pattern != o200kPattern {
                    throw TokenizerError.unsupportedTokenizerJSON(
                        path: path, problem: "pre_tokenizer Split pattern is not the o200k regex: \(pattern ?? "<none>")")
                }
            case "ByteLevel":
                if step["use_regex"] as? Bool == true {
                    throw TokenizerError.unsupportedTokenizerJSON(path: path, problem: "ByteLevel pre_tokenizer with use_regex=true (GPT-2 regex)")
                }
                if step["add_prefix_space"] as? Bool == true {
                    throw TokenizerError.unsupportedTokenizerJSON(path: path, problem: "ByteLevel pre_tokenizer with add_prefix_space=true")
                }
            default:
                throw TokenizerError.unsupportedTokenizerJSON(
                    path: path, problem: "pre_tokenizer step \(step["type"] as? String ?? "<no type>")")
            }
        }
    }

    private static func debugQuote(_ s: String) -> String {
        s.count > 40 ? "\"\(s.prefix(40))…\"" : "\"\(s)\""
    }
}
