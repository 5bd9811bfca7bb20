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
public enum JSONNumberFormatter {
    /// The harmony (serde_json) text of a JSON number: an integer literal that fits 64 bits prints in
    /// plain decimal; anything else goes through f64 and prints in ryu's shortest form.
    public static func harmony(_ n: JSONNumber) -> String {
        if n.isIntegerLiteral {
            if let v = Int64(n.text) { return String(v) }
            if let v = UInt64(n.text) { return String(v) }
        }
        return shortest(n.doubleValue)
    }

    /// Shortest round-trip text of a finite double in ryu's layout (as Rust's serde_json prints it):
    /// `1.0`, `0.1`, `1e-7`, `1.5e-7`, `1e16`, `123.456`, `0.0001`.
    public static func shortest(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description holds the shortest round-trip digits; re-layout them the way ryu does.
        var text = Swift.abs(value).description  // e.g. "1e-07", "12345.678", "1.5e+20", "0.0001"
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var digits = ""
        var pointPos = 0  // number of digits before the decimal point in `text`
        if let dot = text.firstIndex(of: ".") {
            let intPart = String(text[..<dot])
            let fracPart = String(text[text.index(after: dot)...])
            digits = intPart + fracPart
            pointPos = intPart.count
        } else {
            digits = text
            pointPos = text.count
        }
        // Strip leading zeros (adjusting the point) and trailing zeros.
        while digits.count > 1 && digits.first == "0" { digits.removeFirst(); pointPos -= 1 }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        let length = digits.count
        // value = 0.digits * 10^kk  ==  digits * 10^k
        let kk = pointPos + exp10
        let k = kk - length
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
