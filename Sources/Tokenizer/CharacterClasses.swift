// Per-scalar class bits used by the o200k pre-tokenizer, derived from the Swift standard library's
// Unicode tables (`Unicode.Scalar.Properties.generalCategory` and `.isWhitespace`, which is the
// White_Space property that `\s` means in tiktoken's regex). Planes 0 and 1 are cached in a flat
// table built once per process; other planes are asked of the standard library directly.
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
        default: bits = 0
        }
        if props.isWhitespace { bits |= space }
        if value == 0x0A || value == 0x0D { bits |= newline }
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
