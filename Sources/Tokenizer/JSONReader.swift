// A small pull-style JSON reader over UTF-8 bytes, enough to load a 28 MB Hugging Face tokenizer.json
// quickly: the caller walks the objects it cares about, streams the vocab's keys scalar by scalar, and
// skips everything else (the 446k merges) without building Foundation objects. Errors say where
// (line and column) and what was expected.
import Foundation

struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var offset = 0
    let path: String

    init(_ bytes: UnsafeBufferPointer<UInt8>, path: String) {
        self.bytes = bytes
        self.path = path
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { offset = 3 } // UTF-8 BOM
    }

    func error(_ what: String) -> TokenizerError {
        var line = 1, column = 1
        for b in bytes[0..<min(offset, bytes.count)] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return .malformedTokenizerJSON(path: path, problem: "not valid JSON at line \(line), column \(column): \(what)")
    }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            let b = bytes[offset]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { offset += 1 } else { break }
        }
    }

    /// Next non-whitespace byte, not consumed.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    mutating func expect(_ c: UInt8, _ what: String) throws {
        guard peek() == c else { throw error("expected \(what)") }
        offset += 1
    }

    mutating func expectEnd() throws {
        if peek() != nil { throw error("unexpected text after the top-level value") }
    }

    /// Iterates an object's keys: call with `first = true`, then read the value after each key.
    mutating func nextKey(_ first: inout Bool) throws -> String? {
        var key = String.UnicodeScalarView()
        return try nextKey(&first) { key.append($0) } ? String(key) : nil
    }

    /// `nextKey` that streams the key's scalars to `body`; false at the end of the object.
    mutating func nextKey(_ first: inout Bool, scalars body: (Unicode.Scalar) throws -> Void) throws -> Bool {
        if first {
            try expect(UInt8(ascii: "{"), "'{'")
            first = false
            if peek() == UInt8(ascii: "}") { offset += 1; return false }
        } else {
            switch peek() {
            case UInt8(ascii: "}"): offset += 1; return false
            case UInt8(ascii: ","): offset += 1
            default: throw error("expected ',' or '}' in an object")
            }
        }
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
        try readString(scalars: body)
        try expect(UInt8(ascii: ":"), "':' after a key")
        return true
    }

    /// Iterates an array's elements: call with `first = true`; true means an element follows.
    mutating func nextElement(_ first: inout Bool) throws -> Bool {
        if first {
            try expect(UInt8(ascii: "["), "'['")
            first = false
            if peek() == UInt8(ascii: "]") { offset += 1; return false }
            return true
        }
        switch peek() {
        case UInt8(ascii: "]"): offset += 1; return false
        case UInt8(ascii: ","): offset += 1; return true
        default: throw error("expected ',' or ']' in an array")
        }
    }

    /// Reads a string, handing each Unicode scalar to `body`.
    mutating func readString(scalars body: (Unicode.Scalar) throws -> Void) throws {
        try expect(UInt8(ascii: "\""), "a string")
        while true {
            guard offset < bytes.count else { throw error("unterminated string") }
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") { offset += 1; return }
            if b < 0x20 { throw error("control character in a string") }
            if b == UInt8(ascii: "\\") {
                offset += 1
                guard offset < bytes.count else { throw error("unterminated escape") }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""): try body("\"")
                case UInt8(ascii: "\\"): try body("\\")
                case UInt8(ascii: "/"): try body("/")
                case UInt8(ascii: "b"): try body("\u{08}")
                case UInt8(ascii: "f"): try body("\u{0C}")
                case UInt8(ascii: "n"): try body("\n")
                case UInt8(ascii: "r"): try body("\r")
                case UInt8(ascii: "t"): try body("\t")
                case UInt8(ascii: "u"):
                    var v = try readHex4()
                    if v >= 0xD800 && v < 0xDC00 {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate escape") }
                        offset += 2
                        let low = try readHex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate escape") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(v) else { throw error("escape of a lone surrogate") }
                    try body(scalar)
                default:
                    offset -= 1
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
                continue
            }
            if b < 0x80 {
                offset += 1
                try body(Unicode.Scalar(b))
                continue
            }
            let s = UTF8Support.sequence(bytes, at: offset)
            guard s.valid && s.complete else { throw error("invalid UTF-8 in a string") }
            var v = UInt32(b) & (s.length == 2 ? 0x1F : s.length == 3 ? 0x0F : 0x07)
            for k in 1..<s.length { v = v << 6 | UInt32(bytes[offset + k] & 0x3F) }
            offset += s.length
            try body(Unicode.Scalar(v)!)
        }
    }

    private mutating func readHex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("bad hex digit in a \\u escape")
            }
            v = v << 4 | d
            offset += 1
        }
        return v
    }

    mutating func readString() throws -> String {
        var s = String.UnicodeScalarView()
        try readString { s.append($0) }
        return String(s)
    }

    /// Reads a number; returns its value and whether it was written as an integer.
    mutating func readNumber() throws -> (value: Double, isInteger: Bool) {
        skipWhitespace()
        let start = offset
        var isInteger = true
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        var digits = 0
        while offset < bytes.count {
            let c = bytes[offset]
            if c >= 0x30 && c <= 0x39 { digits += 1 }
            else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { isInteger = false }
            else { break }
            offset += 1
        }
        guard digits > 0, let value = Double(String(decoding: bytes[start..<offset], as: UTF8.self)) else {
            offset = start
            throw error("expected a number")
        }
        return (value, isInteger)
    }

    /// Reads a non-negative integer that fits UInt32, or nil for any other value (which is consumed).
    mutating func readUInt32() throws -> UInt32? {
        if let c = peek(), c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) {
            let (value, isInteger) = try readNumber()
            return isInteger ? UInt32(exactly: value) : nil
        }
        try skipValue()
        return nil
    }

    mutating func skipLiteral(_ word: String) throws {
        for c in word.utf8 {
            guard offset < bytes.count, bytes[offset] == c else { throw error("expected a JSON value") }
            offset += 1
        }
    }

    /// Skips one value of any kind.
    mutating func skipValue() throws {
        switch peek() {
        case UInt8(ascii: "{")?:
            var first = true
            while try nextKey(&first) != nil { try skipValue() }
        case UInt8(ascii: "[")?:
            var first = true
            while try nextElement(&first) { try skipValue() }
        case UInt8(ascii: "\"")?:
            try readString { _ in }
        case UInt8(ascii: "t")?: try skipLiteral("true")
        case UInt8(ascii: "f")?: try skipLiteral("false")
        case UInt8(ascii: "n")?: try skipLiteral("null")
        case nil: throw error("unexpected end of file")
        default: _ = try readNumber()
        }
    }

    /// Reads one value as Foundation-style objects ([String: Any], [Any], String, Double, Bool, NSNull).
    /// For the small parts of the file only.
    mutating func readValue() throws -> Any {
        switch peek() {
        case UInt8(ascii: "{")?:
            var object = [String: Any]()
            var first = true
            while let key = try nextKey(&first) { object[key] = try readValue() }
            return object
        case UInt8(ascii: "[")?:
            var array = [Any]()
            var first = true
            while try nextElement(&first) { array.append(try readValue()) }
            return array
        case UInt8(ascii: "\"")?: return try readString()
        case UInt8(ascii: "t")?: try skipLiteral("true"); return true
        case UInt8(ascii: "f")?: try skipLiteral("false"); return false
        case UInt8(ascii: "n")?: try skipLiteral("null"); return NSNull()
        case nil: throw error("unexpected end of file")
        default: return try readNumber().value
        }
    }
}
