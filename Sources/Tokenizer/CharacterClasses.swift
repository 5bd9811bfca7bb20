// Per-scalar class bits used by the o200k pre-tokenizer, derived from the Swift standard library's
// Unicode tables (`Unicode.Scalar.Properties.generalCategory` and `.isWhitespace`, which is the
// White_Space property that `\s` means in tiktoken's regex). Planes 0 and 1 are cached in a flat
// table built once per process; other planes are asked of the standard library directly.
// tiktoken's regex engine (Rust regex-syntax) carries Unicode 16.0 tables, while the standard library
// may be newer: scalars assigned after `regexUnicodeVersion` (their `age`) count as unassigned (Cn).
enum CharClass {
    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`: the "upper" letter class of the regex.
    static let upper: UInt8 = 1
    /// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`: the "lower" letter class of the regex.
    static let lower: UInt8 = 2
    /// `\p{L}`
    static let letter: UInt8 = 4
    /// `\p{N}`
    static let number: UInt8 = 8
    /// `\s` (White_Space)
    static let space: UInt8 = 16
    /// `\r` or `\n`
    static let newline: UInt8 = 32

    /// The Unicode version of the regex tables that tiktoken 0.14 uses.
    static let regexUnicodeVersion: Unicode.Version = (major: 16, minor: 0)

    static func compute(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        let props = scalar.properties
        var bits: UInt8 = 0
        switch props.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: bits = upper | letter
        case .lowercaseLetter: bits = lower | letter
        case .modifierLetter, .otherLetter: bits = upper | lower | letter
        case .nonspacingMark, .spacingMark, .enclosingMark: bits = upper | lower
        case .decimalNumber, .letterNumber, .otherNumber: bits = number
        // White_Space scalars are all Zs, Zl, Zp or Cc (and date from Unicode 4.0 or earlier).
        case .spaceSeparator, .lineSeparator, .paragraphSeparator, .control:
            if props.isWhitespace { bits = space }
        default: return 0 // unassigned, punctuation, symbols, format, private use
        }
        if value == 0x0A || value == 0x0D { bits |= newline }
        if bits & (letter | number | upper) != 0, let age = props.age,
           age.major > regexUnicodeVersion.major || (age.major == regexUnicodeVersion.major && age.minor > regexUnicodeVersion.minor) {
            return 0 // newer than tiktoken's tables: unassigned there
        }
        return bits
    }
}

/// Class bits of U+0000..U+1FFFF, computed once from the standard library.
final class CharClassTable: @unchecked Sendable {  // immutable after init
    static let shared = CharClassTable()
    static let cachedLimit: UInt32 = 0x20000
    let bits: UnsafeMutablePointer<UInt8> // [0x20000] u8

    private init() {
        bits = .allocate(capacity: Int(CharClassTable.cachedLimit))
        for v in 0..<CharClassTable.cachedLimit {
            bits[Int(v)] = CharClass.compute(v)
        }
    }
}
