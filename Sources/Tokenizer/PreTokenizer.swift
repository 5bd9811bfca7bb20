// The o200k pre-tokenizer (spec §5.2) as a hand-written scanner over the UTF-8 bytes of valid text.
// It reproduces the backtracking, leftmost-first semantics of tiktoken's regex
//   1 [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   2 [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   3 \p{N}{1,3}
//   4  ?[^\s\p{L}\p{N}]+[\r\n/]*
//   5 \s*[\r\n]+
//   6 \s+(?!\S)
//   7 \s+
// Each alternative below says which backtracking path of the regex it takes.
struct PreTokenizer {
    let text: UnsafeBufferPointer<UInt8>   // [n] u8, valid UTF-8
    let table: UnsafeMutablePointer<UInt8> // CharClassTable bits

    init(_ text: UnsafeBufferPointer<UInt8>) {
        self.text = text
        self.table = CharClassTable.shared.bits
    }

    /// Class bits and byte length of the scalar starting at `i` (< n).
    @inline(__always)
    func scalar(at i: Int) -> (bits: UInt8, length: Int) {
        let b0 = text[i]
        if b0 < 0x80 { return (table[Int(b0)], 1) }
        let v: UInt32
        let len: Int
        if b0 < 0xE0 {
            v = UInt32(b0 & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F); len = 2
        } else if b0 < 0xF0 {
            v = UInt32(b0 & 0x0F) << 12 | UInt32(text[i + 1] & 0x3F) << 6 | UInt32(text[i + 2] & 0x3F); len = 3
        } else {
            v = UInt32(b0 & 0x07) << 18 | UInt32(text[i + 1] & 0x3F) << 12
                | UInt32(text[i + 2] & 0x3F) << 6 | UInt32(text[i + 3] & 0x3F); len = 4
        }
        if v < CharClassTable.cachedLimit { return (table[Int(v)], len) }
        return (CharClass.compute(v), len)
    }

    /// End of the piece that starts at `p` (< n).
    func pieceEnd(from p: Int) -> Int {
        let n = text.count
        let (c0, len0) = scalar(at: p)
        let prefixOK = c0 & (CharClass.newline | CharClass.letter | CharClass.number) == 0
        // Alternative 1, first with the optional prefix taken, then without it.
        if prefixOK, p + len0 < n, let e = letters1(from: p + len0) { return e }
        if let e = letters1(from: p) { return e }
        // Alternative 2, same order.
        if prefixOK, p + len0 < n, let e = letters2(from: p + len0) { return e }
        if let e = letters2(from: p) { return e }
        // Alternative 3: 1 to 3 numbers.
        if c0 & CharClass.number != 0 {
            var e = p + len0
            var k = 1
            while k < 3 && e < n {
                let (c, l) = scalar(at: e)
                if c & CharClass.number == 0 { break }
                e += l; k += 1
            }
            return e
        }
        // Alternative 4: optional space, a run of [^\s\p{L}\p{N}], then [\r\n/]*.
        let punct = CharClass.space | CharClass.letter | CharClass.number
        var s = p
        if text[p] == 0x20 { s = p + 1 }
        var e = s
        while e < n {
            let (c, l) = scalar(at: e)
            if c & punct != 0 { break }
            e += l
        }
        if e > s {
            while e < n, text[e] == 0x0D || text[e] == 0x0A || text[e] == 0x2F { e += 1 }
            return e
        }
        // Alternatives 5-7 all start with a whitespace run; c0 is whitespace here (every other class
        // was taken above).
        var k = p
        var lastNewlineEnd = -1
        var lastStart = p
        while k < n {
            let (c, l) = scalar(at: k)
            if c & CharClass.space == 0 { break }
            if c & CharClass.newline != 0 { lastNewlineEnd = k + l }
            lastStart = k
            k += l
        }
        // 5: \s*[\r\n]+ backtracks to the last newline in the run.
        if lastNewlineEnd > 0 { return lastNewlineEnd }
        if k > p {
            // 6: \s+(?!\S): the whole run at the end of text, else the run minus its last scalar.
            if k == n { return k }
            if lastStart > p { return lastStart }
            // 7: \s+
            return k
        }
        return p + len0 // unreachable for valid text: every scalar is in some class above
    }

    /// Alternative 1 after its optional prefix: upper* lower+ contraction?
    @inline(__always)
    private func letters1(from s: Int) -> Int? {
        let n = text.count
        var k = s
        var lastLowerEnd = -1 // end of the last scalar of the upper* run that is also in `lower`
        while k < n {
            let (c, l) = scalar(at: k)
            if c & CharClass.upper == 0 {
                if c & CharClass.lower != 0 {
                    // lower+ continues greedily from here.
                    var e = k + l
                    while e < n {
                        let (c2, l2) = scalar(at: e)
                        if c2 & CharClass.lower == 0 { break }
                        e += l2
                    }
                    return contraction(at: e)
                }
                break
            }
            if c & CharClass.lower != 0 { lastLowerEnd = k + l }
            k += l
        }
        // upper* gives back scalars until lower+ can take one: the last Lm/Lo/M of the run.
        if lastLowerEnd > 0 { return contraction(at: lastLowerEnd) }
        return nil
    }

    /// Alternative 2 after its optional prefix: upper+ lower* contraction?
    @inline(__always)
    private func letters2(from s: Int) -> Int? {
        let n = text.count
        var k = s
        while k < n {
            let (c, l) = scalar(at: k)
            if c & CharClass.upper == 0 { break }
            k += l
        }
        if k == s { return nil }
        while k < n {
            let (c, l) = scalar(at: k)
            if c & CharClass.lower == 0 { break }
            k += l
        }
        return contraction(at: k)
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `e`. Case-insensitive matching uses Unicode simple case
    /// folding, so `'ſ` (U+017F) matches `'s` too.
    @inline(__always)
    private func contraction(at e: Int) -> Int {
        let n = text.count
        guard e + 1 < n, text[e] == 0x27 else { return e }
        let a = text[e + 1] | 0x20 // ASCII lower-case (harmless for non-letters: compared to letters only)
        switch a {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            if text[e + 1] >= 0x41 && text[e + 1] <= 0x7A { return e + 2 }
        case UInt8(ascii: "r"), UInt8(ascii: "v"), UInt8(ascii: "l"):
            if e + 2 < n && text[e + 1] >= 0x41 && text[e + 1] <= 0x7A {
                let want: UInt8 = a == UInt8(ascii: "r") || a == UInt8(ascii: "v") ? UInt8(ascii: "e") : UInt8(ascii: "l")
                if text[e + 2] | 0x20 == want && text[e + 2] >= 0x41 && text[e + 2] <= 0x7A { return e + 3 }
            }
        default:
            break
        }
        // U+017F LATIN SMALL LETTER LONG S (C5 BF) folds to 's'.
        if e + 2 < n && text[e + 1] == 0xC5 && text[e + 2] == 0xBF { return e + 3 }
        return e
    }
}
