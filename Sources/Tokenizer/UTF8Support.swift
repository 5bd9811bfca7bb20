// UTF-8 helpers of the tokenizer: validation of encode input (offset of the first bad byte), lossy
// decoding with one U+FFFD per maximal invalid subpart (spec §6.12), and the length of an unfinished
// trailing sequence that a streaming decoder must hold back.
enum UTF8Support {
    /// Length of the well-formed sequence starting at `i`, or nil if the bytes there are not one
    /// (Unicode Table 3-7, well-formed UTF-8 byte sequences). `complete` is false when the bytes end
    /// before the sequence does but every byte so far is valid.
    @inline(__always)
    static func sequence(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (length: Int, valid: Bool, complete: Bool) {
        let b0 = b[i]
        if b0 < 0x80 { return (1, true, true) }
        let length: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; hi = 0x9F
        case 0xF0: length = 4; lo = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; hi = 0x8F
        default: return (1, false, true)
        }
        var k = 1
        while k < length {
            guard i + k < b.count else { return (k, true, false) }
            let c = b[i + k]
            let ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF)
            if !ok { return (k, false, true) }
            k += 1
        }
        return (length, true, true)
    }

    /// Offset of the first byte that is not part of a well-formed sequence, or nil when all are valid.
    static func firstInvalidOffset(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            if b[i] < 0x80 { i += 1; continue }
            let s = sequence(b, at: i)
            if !s.valid || !s.complete { return i }
            i += s.length
        }
        return nil
    }

    /// Number of trailing bytes that begin a well-formed sequence the bytes do not finish (0...3).
    static func unfinishedSuffixLength(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = b.count
        var j = n - 1
        while j >= 0 && j >= n - 3 {
            let c = b[j]
            if c < 0x80 { return 0 }
            if c >= 0xC0 {
                let s = sequence(b, at: j)
                return s.valid && !s.complete ? n - j : 0
            }
            j -= 1
        }
        return 0
    }

    /// Lossy decoding: one U+FFFD per maximal invalid subpart.
    static func lossyString(_ b: UnsafeBufferPointer<UInt8>) -> String {
        if firstInvalidOffset(b) == nil { return String(decoding: b, as: UTF8.self) }
        var out = [UInt8]()
        out.reserveCapacity(b.count + 8)
        var i = 0
        while i < b.count {
            let s = sequence(b, at: i)
            if s.valid && s.complete {
                out.append(contentsOf: b[i..<(i + s.length)])
            } else {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            }
            i += s.length
        }
        return String(decoding: out, as: UTF8.self)
    }
}
