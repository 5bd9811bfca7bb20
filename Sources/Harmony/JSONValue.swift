// JSONValue: an order-preserving JSON document model for requests and tool schemas.
// Owns: the value enum, numbers that keep their source text, objects that keep key order.
// Foundation's JSONSerialization loses key order and reformats numbers; harmony's tool rendering
// (spec §6.11) depends on both, so every request we accept is parsed into this type instead.

/// A JSON number kept as the exact text it was written with (e.g. `1.0`, `1e-07`, `42`).
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible {
    /// The number's source text, valid per the JSON grammar.
    public let text: String

    /// Wraps already-validated JSON number text. Use `JSONNumber(_ value:)` for Swift numbers.
    public init(validatedText text: String) { self.text = text }

    public init(_ value: Int) { self.text = String(value) }

    /// A finite double, written in the shortest round-trip form (`1.0`, `1e-7`).
    public init(_ value: Double) { self.text = JSONNumberFormatter.shortest(value) }

    /// True when the text has no fraction and no exponent (`-12`, `0`).
    public var isIntegerLiteral: Bool { !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) }

    /// The value as a Double (may round; never fails for valid JSON number text).
    public var doubleValue: Double { Double(text) ?? .nan }

    /// The value as an Int when the literal is an integer that fits, or a float with an integral value.
    public var intValue: Int? {
        if isIntegerLiteral { return Int(text) }
        let d = doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9.0e18 else { return nil }
        return Int(d)
    }

    public var description: String { text }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Equatable, Sendable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) { self.key = key; self.value = value }
}

/// A JSON object whose members keep the order they were written in.
/// A key written twice keeps its first position and its last value (as Python's json and serde_json's
/// IndexMap do).
public struct JSONObject: Equatable, Sendable {
    public private(set) var members: [JSONMember]

    public init(_ members: [JSONMember] = []) {
        self.members = []
        for m in members { self[m.key] = m.value }
    }

    /// Members whose keys are known to be distinct (the parser dedupes with a hash index).
    init(uniqueMembers: [JSONMember]) { self.members = uniqueMembers }

    public var keys: [String] { members.map(\.key) }
    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }

    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(JSONMember(key, newValue))
            }
        }
    }
}

/// A JSON value. Objects keep key order; numbers keep their source text.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type name used in error messages ("string", "number", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { self == .null }

    /// Member lookup on an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? { objectValue?[key] }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    /// Dictionary literals keep their written order: `["b": 1, "a": 2]` serializes as `{"b":1,"a":2}`.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONMember($0.0, $0.1) }))
    }
}
