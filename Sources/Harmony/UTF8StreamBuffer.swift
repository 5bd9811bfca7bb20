// UTF8StreamBuffer: bytes arriving token by token → text, holding back an unfinished UTF-8 character.
// Owns: the hold-back rule only. Invalid bytes become U+FFFD (one per maximal invalid subpart, as
// String(decoding:) and tiktoken's lossy decode do); a trailing sequence that may still complete is
// kept until the next token or `flush()`.

public struct UTF8StreamBuffer: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Appends bytes and returns the text that is now complete (possibly empty).
    public mutating func append(_ bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let keep = Self.incompleteSuffixLength(pending)
        let ready = pending.count - keep
        guard ready > 0 else { return "" }
        let text = String(decoding: pending[0..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Returns whatever is held back, lossily decoded, and empties the buffer.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Length of a trailing, valid-so-far but unfinished UTF-8 sequence (0...3).
    static func incompleteSuffixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        var k = 1
        while k <= min(3, n) {
            let lead = b[n - k]
            if lead & 0xC0 == 0x80 { k += 1; continue }  // continuation byte: keep looking for the lead
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: need = 2
            case 0xE0: need = 3; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 3
            case 0xED: need = 3; hi = 0x9F
            case 0xF0: need = 4; lo = 0x90
            case 0xF1...0xF3: need = 4
            case 0xF4: need = 4; hi = 0x8F
            default: return 0
            }
            if k >= need { return 0 }  // complete (or over-long run: let the decoder judge)
            if k >= 2 {
                let second = b[n - k + 1]
                if second < lo || second > hi { return 0 }
            }
            return k
        }
        return 0
    }
}
