// JSONSerializer: compact JSON output for `JSONValue` (no spaces, keys in stored order).
// Owns: string escaping (serde_json's rules: `"` `\` and control characters only; non-ASCII is written
// as is), number styles, and the shortest round-trip float form harmony uses for defaults (spec §6.11).

/// How numbers are written by the serializer.
public enum JSONNumberStyle: Sendable {
    /// Exactly the source text (`1.50` stays `1.50`).
    case source
    /// As openai-harmony (serde_json) writes them: integers in plain decimal, floats in the shortest
    /// round-trip form keeping a whole number's `.0` (`1.0`, `1e-7`, `1e20`, `0.0001`).
    case harmony
}

extension JSONValue {
    /// Compact JSON text (`{"k":1,"s":"v"}`), keys in their stored order.
    public func compactJSON(numbers: JSONNumberStyle = .source) -> String {
        var out = ""
        JSONSerializer.write(self, numbers: numbers, into: &out)
        return out
    }
}

/// Writes `JSONValue` as compact JSON (see the file header for escaping and number styles).
public enum JSONSerializer {
    public static func write(_ value: JSONValue, numbers: JSONNumberStyle, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            out += numbers == .source ? n.text : JSONNumberFormatter.harmony(n)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                write(item, numbers: numbers, into: &out)
            }
            out += "]"
        case .object(let obj):
            out += "{"
            for (k, m) in obj.members.enumerated() {
                if k > 0 { out += "," }
                writeString(m.key, into: &out)
                out += ":"
                write(m.value, numbers: numbers, into: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal with serde_json's escaping.
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

/// Number formatting shared by the serializer and the tool-schema renderer.
///
/// openai-harmony receives tool schemas from Python: `json.loads` (exact), then `json.dumps` (Python's
/// shortest repr, integers as exact digits), then Rust's serde_json parses that text with its default
/// *fast* float parser (significand as u64, then one multiply or divide by a power of ten: not always
/// correctly rounded), and finally prints with ryu. `harmony(_:)` reproduces that chain so that every
/// default renders to the same digits as openai-harmony's output.
public enum JSONNumberFormatter {
    /// The harmony text of a JSON number (see the type's comment).
    public static func harmony(_ n: JSONNumber) -> String {
        if n.isIntegerLiteral {
            // Python keeps integers exact and writes them back as digits ("-0" becomes 0).
            let negative = n.text.hasPrefix("-")
            let digits = Array((negative ? n.text.dropFirst() : Substring(n.text)).utf8)
            if digits == [UInt8(ascii: "0")] { return "0" }
            var significand: UInt64 = 0
            var k = 0
            while k < digits.count {
                let d = UInt64(digits[k] - 0x30)
                let (m, o1) = significand.multipliedReportingOverflow(by: 10)
                let (v, o2) = m.addingReportingOverflow(d)
                if o1 || o2 { break }
                significand = v
                k += 1
            }
            if k == digits.count {
                if !negative { return String(significand) }
                if significand <= UInt64(Int64.max) + 1 { return "-" + String(significand) }
                return shortest(-Double(significand))  // serde_json: too negative for i64 → f64
            }
            // Longer than u64: the remaining digits only scale (serde_json's parse_long_integer).
            return shortest(serdeFromParts(negative: negative, significand: significand, exponent: digits.count - k))
        }
        let d = n.doubleValue
        guard d.isFinite else { return "null" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        let (digits, exponent) = shortestDigits(Swift.abs(d))
        let significand = UInt64(digits) ?? 0  // at most 17 digits: always fits
        return shortest(serdeFromParts(negative: d.sign == .minus, significand: significand, exponent: exponent))
    }

    /// Powers of ten as correctly rounded doubles (serde_json's POW10 table).
    private static let pow10: [Double] = (0...308).map { Double("1e\($0)") ?? .infinity }

    /// serde_json's `f64_from_parts` without the `float_roundtrip` feature.
    static func serdeFromParts(negative: Bool, significand: UInt64, exponent: Int) -> Double {
        var f = Double(significand)
        var e = exponent
        while true {
            if Swift.abs(e) <= 308 {
                if e >= 0 { f *= pow10[e] } else { f /= pow10[-e] }
                break
            }
            if f == 0 { break }
            if e >= 0 { return negative ? -.infinity : .infinity }
            f /= 1e308
            e += 308
        }
        return negative ? -f : f
    }

    /// The shortest round-trip decimal digits of a positive finite double: value = digits × 10^exponent,
    /// digits without leading or trailing zeros.
    static func shortestDigits(_ value: Double) -> (digits: String, exponent: Int) {
        // Swift's description holds the shortest round-trip digits ("1e-07", "12345.678", "1.5e+20").
        var text = value.description
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var digits: String
        var fractionDigits = 0
        if let dot = text.firstIndex(of: ".") {
            let fracPart = text[text.index(after: dot)...]
            digits = String(text[..<dot]) + fracPart
            fractionDigits = fracPart.count
        } else {
            digits = text
        }
        var exponent = exp10 - fractionDigits
        while digits.count > 1 && digits.first == "0" { digits.removeFirst() }
        while digits.count > 1 && digits.last == "0" { digits.removeLast(); exponent += 1 }
        return (digits, exponent)
    }

    /// Shortest round-trip text of a finite double in ryu's layout (as Rust's serde_json prints it):
    /// `1.0`, `0.1`, `1e-7`, `1.5e-7`, `1e16`, `123.456`, `0.0001`.
    public static func shortest(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (digits, k) = shortestDigits(Swift.abs(value))
        let length = digits.count
        // value = digits × 10^k = 0.digits × 10^kk
        let kk = length + k
        let sign = value.sign == .minus ? "-" : ""
        if k >= 0 && kk <= 16 {
            return sign + digits + String(repeating: "0", count: k) + ".0"
        } else if kk > 0 && kk <= 16 {
            let cut = digits.index(digits.startIndex, offsetBy: kk)
            return sign + digits[..<cut] + "." + digits[cut...]
        } else if kk > -5 && kk <= 0 {
            return sign + "0." + String(repeating: "0", count: -kk) + digits
        } else if length == 1 {
            return sign + digits + "e" + String(kk - 1)
        } else {
            let first = digits.prefix(1)
            return sign + first + "." + digits.dropFirst() + "e" + String(kk - 1)
        }
    }
}
