// ToolNamespaceRenderer: function tools → the TypeScript-like `# Tools` section (spec §6.4, §6.11).
// Owns: JSON schema → TypeScript type text, property comments, defaults, oneOf layout, namespace
// layout. Written to match openai-harmony 0.0.8 byte for byte (checked by the render fixtures).

enum ToolNamespaceRenderer {
    /// The whole tools section: `# Tools\n\n## functions\n\nnamespace functions {\n\n...} // namespace functions`.
    static func toolsSection(_ namespaces: [ToolNamespace]) -> String {
        var sections = ["# Tools"]
        for ns in namespaces {
            var lines: [String] = ["## \(ns.name)\n"]
            if let desc = ns.description {
                for line in rustLines(desc) {
                    lines.append(ns.tools.isEmpty ? line : "// \(line)")
                }
            }
            if !ns.tools.isEmpty {
                lines.append("namespace \(ns.name) {\n")
                for tool in ns.tools {
                    for line in rustLines(tool.description) { lines.append("// \(line)") }
                    if let params = tool.parameters {
                        lines.append("type \(tool.name) = (_: \(typeScript(params, indent: ""))) => any;\n")
                    } else {
                        lines.append("type \(tool.name) = () => any;\n")
                    }
                }
                lines.append("} // namespace \(ns.name)")
            }
            sections.append(lines.joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n")
    }

    /// Rust's `str::lines`: split on `\n`, drop one trailing `\r` per line, no final empty line.
    static func rustLines(_ s: String) -> [String] {
        // Work on bytes: as Characters, "\r\n" is one grapheme and would not split on "\n".
        let bytes = Array(s.utf8)
        if bytes.isEmpty { return [] }
        var parts = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if bytes.last == 0x0A { parts.removeLast() }
        return parts.map { line in
            let trimmed = line.last == 0x0D ? line.dropLast() : line[...]
            return String(decoding: trimmed, as: UTF8.self)
        }
    }

    private static func isEnum(_ schema: JSONValue) -> Bool {
        if let arr = schema["enum"]?.arrayValue { return !arr.isEmpty }
        return false
    }

    /// ` // default: X` text for a default value (without the leading `// `).
    private static func defaultText(_ value: JSONValue, in schema: JSONValue) -> String {
        if case .string(let s) = value {
            return isEnum(schema) ? "default: \(s)" : "default: \"\(s)\""
        }
        return "default: \(value.compactJSON(numbers: .harmony))"
    }

    private static func withNullable(_ type: String, _ schema: JSONValue) -> String {
        if schema["nullable"]?.boolValue == true && !type.contains("null") { return type + " | null" }
        return type
    }

    /// JSON schema → TypeScript type text (harmony's `json_schema_to_typescript`).
    static func typeScript(_ schema: JSONValue, indent: String) -> String {
        // oneOf at this level: one `\n{indent} | TYPE` line per variant.
        if let variants = schema["oneOf"]?.arrayValue {
            var out = ""
            for variant in variants {
                out += "\n\(indent) | "
                out += withNullable(typeScript(variant, indent: indent + "   "), variant)
                var trailing: [String] = []
                if let d = variant["description"]?.stringValue { trailing.append(d) }
                if let def = variant["default"] { trailing.append(defaultText(def, in: variant)) }
                if !trailing.isEmpty { out += " // " + trailing.joined(separator: " ") }
            }
            return out
        }
        // A list of types → a union.
        if let types = schema["type"]?.arrayValue {
            let names = types.compactMap { $0.stringValue }.map { $0 == "integer" ? "number" : $0 }
            if !names.isEmpty { return names.joined(separator: " | ") }
        }
        guard let type = schema["type"]?.stringValue else { return "any" }
        switch type {
        case "object":
            return objectType(schema, indent: indent)
        case "string":
            if let values = schema["enum"]?.arrayValue {
                let names = values.compactMap { $0.stringValue }.map { "\"\($0)\"" }
                if !names.isEmpty { return names.joined(separator: " | ") }
            }
            return "string"
        case "number", "integer": return "number"
        case "boolean": return "boolean"
        case "array":
            if let items = schema["items"] { return typeScript(items, indent: indent) + "[]" }
            return "Array<any>"
        default:
            return "any"
        }
    }

    private static func objectType(_ schema: JSONValue, indent: String) -> String {
        var out = ""
        if let desc = schema["description"]?.stringValue { out += "\(indent)// \(desc)\n" }
        out += "{\n"
        if let props = schema["properties"]?.objectValue {
            let required = Set((schema["required"]?.arrayValue ?? []).compactMap { $0.stringValue })
            for member in props.members {
                let key = member.key
                let val = member.value
                let optional = required.contains(key) ? "" : "?"
                if let title = val["title"]?.stringValue { out += "\(indent)// \(title)\n\(indent)//\n" }
                let oneOf = val["oneOf"]?.arrayValue
                if oneOf == nil, let desc = val["description"]?.stringValue { out += "\(indent)// \(desc)\n" }
                if let examples = val["examples"]?.arrayValue, !examples.isEmpty {
                    out += "\(indent)// Examples:\n"
                    // Only string examples are listed (quoted, not escaped); others are skipped.
                    for case .string(let ex) in examples { out += "\(indent)// - \"\(ex)\"\n" }
                }
                if let variants = oneOf {
                    out += oneOfProperty(key: key, optional: optional, schema: val, variants: variants, indent: indent)
                    continue
                }
                out += "\(indent)\(key)\(optional): "
                out += withNullable(typeScript(val, indent: indent + "    "), val)
                out += ","
                if let def = val["default"] { out += " // " + defaultText(def, in: val) }
                out += "\n"
            }
        }
        out += "\(indent)}"
        return out
    }

    private static func oneOfProperty(key: String, optional: String, schema val: JSONValue,
                                      variants: [JSONValue], indent: String) -> String {
        var out = ""
        let propertyDesc = val["description"]?.stringValue
        var skipPropertyDesc = false
        if let pd = propertyDesc, let first = variants.first, first["description"]?.stringValue == pd {
            skipPropertyDesc = true
        }
        var renderedAbove = false
        if !skipPropertyDesc, let pd = propertyDesc {
            out += "\(indent)// \(pd)\n"
            renderedAbove = true
        }
        if let def = val["default"] { out += "\(indent)// \(defaultText(def, in: val))\n" }
        out += "\(indent)\(key)\(optional):\n"
        for (i, variant) in variants.enumerated() {
            out += "\(indent) | "
            out += withNullable(typeScript(variant, indent: indent + "   "), variant)
            var trailing: [String] = []
            if !(i == 0 && renderedAbove), let d = variant["description"]?.stringValue, d != propertyDesc {
                trailing.append(d)
            }
            if let def = variant["default"] { trailing.append(defaultText(def, in: variant)) }
            if !trailing.isEmpty { out += " // " + trailing.joined(separator: " ") }
            out += "\n"
        }
        out += "\(indent),\n"
        return out
    }
}
