// Parser of tiktoken's plain-text rank files (`o200k_base.tiktoken`): one `<base64 bytes> <rank>` per line.
// Works on raw bytes (file contents or the copy embedded in the binary) with a table-driven base64
// decoder; every malformed line is reported with its 1-based line number.
import Foundation

enum TiktokenFile {
    /// base64 alphabet value of each byte, 0xFF = not in the alphabet.
    private static let base64Values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    static func parse(_ data: UnsafeRawBufferPointer, path: String) throws -> RankTable {
        let bytes = data.bindMemory(to: UInt8.self)
        let n = bytes.count
        var builder = RankTableBuilder(path: path, expectedCount: n / 18)
        let values = base64Values
        var lineStart = 0
        var line = 0
        while lineStart < n {
            line += 1
            var lineEnd = lineStart
            while lineEnd < n && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let terminated = lineEnd < n
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            defer { lineStart = lineEnd + 1 }
            if contentEnd == lineStart { continue } // blank lines are skipped, as tiktoken does
            func fail(_ problem: String) -> TokenizerError {
                terminated
                    ? .malformedVocabularyLine(path: path, line: line, problem: problem)
                    : .truncatedVocabulary(path: path, line: line, problem: "last line has no newline and is incomplete: \(problem)")
            }
            var space = lineStart
            while space < contentEnd && bytes[space] != 0x20 { space += 1 }
            if space == contentEnd { throw fail("no space between token and rank") }
            if space == lineStart { throw fail("empty token (line starts with a space)") }
            // Rank: decimal digits only.
            let rankStart = space + 1
            if rankStart == contentEnd { throw fail("missing rank after the space") }
            var rank: UInt64 = 0
            for i in rankStart..<contentEnd {
                let c = bytes[i]
                guard c >= 0x30 && c <= 0x39 else {
                    throw fail("rank '\(String(decoding: bytes[rankStart..<contentEnd], as: UTF8.self))' is not a non-negative decimal integer")
                }
                rank = rank * 10 + UInt64(c - 0x30)
                if rank >= UInt64(UInt32.max) { throw fail("rank is too large") }
            }
            // Token: base64 with '=' padding to a multiple of 4 characters.
            let b64Count = space - lineStart
            if b64Count % 4 != 0 { throw fail("base64 token has \(b64Count) characters, not a multiple of 4") }
            var pad = 0
            if bytes[space - 1] == 0x3D { pad += 1; if bytes[space - 2] == 0x3D { pad += 1 } }
            var badChar: Int? = nil
            builder.add(rank: UInt32(rank), line: line) { out in
                var i = lineStart
                let fullEnd = space - (pad > 0 ? 4 : 0)
                while i < fullEnd {
                    let a = values[Int(bytes[i])], b = values[Int(bytes[i + 1])]
                    let c = values[Int(bytes[i + 2])], d = values[Int(bytes[i + 3])]
                    if (a | b | c | d) == 0xFF { badChar = i; return }
                    out.append(a << 2 | b >> 4)
                    out.append(b << 4 | c >> 2)
                    out.append(c << 6 | d)
                    i += 4
                }
                if pad > 0 {
                    let a = values[Int(bytes[i])], b = values[Int(bytes[i + 1])]
                    if (a | b) == 0xFF { badChar = i; return }
                    out.append(a << 2 | b >> 4)
                    if pad == 1 {
                        let c = values[Int(bytes[i + 2])]
                        if c == 0xFF { badChar = i; return }
                        out.append(b << 4 | c >> 2)
                    }
                }
            }
            if let bad = badChar {
                var j = bad
                while j < space && values[Int(bytes[j])] != 0xFF { j += 1 }
                throw fail("invalid base64 character '\(String(decoding: [bytes[min(j, space - 1)]], as: UTF8.self))' at column \(j - lineStart + 1)")
            }
        }
        if builder.count == 0 {
            throw TokenizerError.truncatedVocabulary(path: path, line: line, problem: "the file holds no entries")
        }
        return try builder.build()
    }

    static func load(path: String) throws -> RankTable {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"
            throw TokenizerError.vocabularyUnreadable(path: path, reason: reason)
        }
        return try data.withUnsafeBytes { try parse($0, path: path) }
    }
}
