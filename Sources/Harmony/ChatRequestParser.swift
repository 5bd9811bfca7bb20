// ChatRequestParser: JSON text / JSONValue → ChatRequest, with typed errors naming the field path.
// Owns: field-by-field validation of the chat-completions body. Unknown fields are ignored (kept in
// `body`); known fields with a wrong type are errors.

extension ChatRequest {
    /// Parses a request body from JSON text.
    public static func parse(json text: String) throws(ChatRequestError) -> ChatRequest {
        try parse(jsonBytes: Array(text.utf8))
    }

    /// Parses a request body from raw bytes (invalid UTF-8 is reported as invalid JSON).
    public static func parse(jsonBytes bytes: [UInt8]) throws(ChatRequestError) -> ChatRequest {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes: bytes) } catch { throw .invalidJSON(error) }
        return try parse(value)
    }

    /// Parses a request body from an already-parsed JSON value.
    public static func parse(_ value: JSONValue) throws(ChatRequestError) -> ChatRequest {
        guard case .object(let body) = value else {
            throw .wrongType(path: "(request body)", expected: "object", found: value.typeName)
        }
        var req = ChatRequest(messages: [])
        req.body = body
        req.model = try optionalString(body["model"], "model")

        // messages
        guard let messagesValue = body["messages"], !messagesValue.isNull else { throw .missingField(path: "messages") }
        guard case .array(let items) = messagesValue else {
            throw .wrongType(path: "messages", expected: "array", found: messagesValue.typeName)
        }
        var callNames: [String: String] = [:]  // tool_call_id → function name, from earlier assistant messages
        for (i, item) in items.enumerated() {
            let msg = try parseMessage(item, path: "messages[\(i)]", callNames: callNames)
            if case .assistant(let a) = msg {
                for c in a.toolCalls { if let id = c.id { callNames[id] = c.name } }
            }
            req.messages.append(msg)
        }

        // tools
        if let toolsValue = body["tools"], !toolsValue.isNull {
            guard case .array(let tools) = toolsValue else {
                throw .wrongType(path: "tools", expected: "array", found: toolsValue.typeName)
            }
            for (i, t) in tools.enumerated() { req.tools.append(try parseTool(t, path: "tools[\(i)]")) }
        }

        if let effort = try optionalString(body["reasoning_effort"], "reasoning_effort") {
            guard let e = ReasoningEffort(rawValue: effort) else {
                throw .invalidValue(path: "reasoning_effort", message: "expected \"low\", \"medium\" or \"high\", found \"\(effort)\"")
            }
            req.reasoningEffort = e
        }
        if let tc = body["tool_choice"], !tc.isNull {
            switch tc {
            case .string, .object: req.toolChoice = tc
            default: throw .wrongType(path: "tool_choice", expected: "string or object", found: tc.typeName)
            }
        }
        req.maxTokens = try optionalInt(body["max_tokens"], "max_tokens")
        req.maxCompletionTokens = try optionalInt(body["max_completion_tokens"], "max_completion_tokens")
        req.temperature = try optionalDouble(body["temperature"], "temperature")
        req.topP = try optionalDouble(body["top_p"], "top_p")
        req.seed = try optionalInt(body["seed"], "seed")
        req.n = try optionalInt(body["n"], "n")
        req.stream = try optionalBool(body["stream"], "stream") ?? false
        if let stop = body["stop"], !stop.isNull {
            switch stop {
            case .string(let s): req.stop = [s]
            case .array(let arr):
                for (i, s) in arr.enumerated() {
                    guard case .string(let str) = s else {
                        throw .wrongType(path: "stop[\(i)]", expected: "string", found: s.typeName)
                    }
                    req.stop.append(str)
                }
            default: throw .wrongType(path: "stop", expected: "string or array of strings", found: stop.typeName)
            }
        }
        if let so = body["stream_options"], !so.isNull {
            guard case .object(let obj) = so else {
                throw .wrongType(path: "stream_options", expected: "object", found: so.typeName)
            }
            req.streamOptions = ChatStreamOptions(
                includeUsage: try optionalBool(obj["include_usage"], "stream_options.include_usage") ?? false)
        }
        return req
    }

    // MARK: messages

    private static func parseMessage(_ value: JSONValue, path: String,
                                     callNames: [String: String]) throws(ChatRequestError) -> ChatMessage {
        guard case .object(let obj) = value else {
            throw .wrongType(path: path, expected: "object", found: value.typeName)
        }
        guard let roleValue = obj["role"], !roleValue.isNull else { throw .missingField(path: "\(path).role") }
        guard case .string(let role) = roleValue else {
            throw .wrongType(path: "\(path).role", expected: "string", found: roleValue.typeName)
        }
        switch role {
        case "system", "developer":
            let parts = try contentParts(obj["content"], path: "\(path).content")
            let text = parts.map { $0.joined() }
            let nonEmpty = (text?.isEmpty ?? true) ? nil : text
            return role == "system" ? .system(nonEmpty) : .developer(nonEmpty)
        case "user":
            guard let parts = try contentParts(obj["content"], path: "\(path).content") else {
                throw .missingField(path: "\(path).content")
            }
            let name = try optionalString(obj["name"], "\(path).name")
            return .user(parts: parts, name: name)
        case "assistant":
            var a = ChatAssistantMessage()
            if let r = try optionalString(obj["reasoning_content"], "\(path).reasoning_content"), !r.isEmpty {
                a.reasoning = r
            }
            let parts = try contentParts(obj["content"], path: "\(path).content") ?? []
            a.content = parts.joined().isEmpty ? [] : parts  // "" (or only empty parts) means absent
            if let calls = obj["tool_calls"], !calls.isNull {
                guard case .array(let arr) = calls else {
                    throw .wrongType(path: "\(path).tool_calls", expected: "array", found: calls.typeName)
                }
                for (k, c) in arr.enumerated() {
                    a.toolCalls.append(try parseToolCall(c, path: "\(path).tool_calls[\(k)]"))
                }
            }
            return .assistant(a)
        case "tool":
            let id = try optionalString(obj["tool_call_id"], "\(path).tool_call_id")
            let explicitName = try optionalString(obj["name"], "\(path).name")
            let parts = try contentParts(obj["content"], path: "\(path).content") ?? [""]
            let name: String
            if let n = explicitName, !n.isEmpty {
                name = n
            } else if let id, let n = callNames[id] {
                name = n
            } else {
                throw .unmatchedToolMessage(path: path, toolCallID: id)
            }
            return .tool(ChatToolMessage(toolCallID: id, name: name, content: parts))
        default:
            throw .unknownRole(path: "\(path).role", role: role)
        }
    }

    private static func parseToolCall(_ value: JSONValue, path: String) throws(ChatRequestError) -> ChatToolCall {
        guard case .object(let obj) = value else {
            throw .wrongType(path: path, expected: "object", found: value.typeName)
        }
        let id = try optionalString(obj["id"], "\(path).id")
        let (f, name) = try functionEnvelope(obj, path: path, kind: "tool calls")
        guard let args = try optionalString(f["arguments"], "\(path).function.arguments") else {
            throw .missingField(path: "\(path).function.arguments")
        }
        return ChatToolCall(id: id, name: name, arguments: args)
    }

    /// The `{"type": "function", "function": {"name": ...}}` envelope shared by tools and assistant tool
    /// calls: the function object and its name. `kind` names them in the error ("tools", "tool calls").
    private static func functionEnvelope(_ obj: JSONObject, path: String,
                                         kind: String) throws(ChatRequestError) -> (function: JSONObject, name: String) {
        if let type = try optionalString(obj["type"], "\(path).type"), type != "function" {
            throw .invalidValue(path: "\(path).type", message: "only \"function\" \(kind) are supported, found \"\(type)\"")
        }
        guard let fn = obj["function"], !fn.isNull else { throw .missingField(path: "\(path).function") }
        guard case .object(let f) = fn else {
            throw .wrongType(path: "\(path).function", expected: "object", found: fn.typeName)
        }
        guard let name = try optionalString(f["name"], "\(path).function.name") else {
            throw .missingField(path: "\(path).function.name")
        }
        return (f, name)
    }

    /// `content` as text parts: a string is one part; an array holds `{"type": "text", "text": ...}`
    /// parts (a bare string element is accepted as a text part); null/missing → nil.
    private static func contentParts(_ value: JSONValue?, path: String) throws(ChatRequestError) -> [String]? {
        guard let value, !value.isNull else { return nil }
        switch value {
        case .string(let s): return [s]
        case .array(let items):
            var parts: [String] = []
            for (i, item) in items.enumerated() {
                let p = "\(path)[\(i)]"
                switch item {
                case .string(let s): parts.append(s)
                case .object(let part):
                    let type = try optionalString(part["type"], "\(p).type") ?? "text"
                    guard type == "text" else {
                        throw .invalidValue(path: "\(p).type", message: "unsupported content part type \"\(type)\" (only \"text\" parts are supported)")
                    }
                    guard let text = try optionalString(part["text"], "\(p).text") else {
                        throw .missingField(path: "\(p).text")
                    }
                    parts.append(text)
                default:
                    throw .wrongType(path: p, expected: "text part object", found: item.typeName)
                }
            }
            return parts
        default:
            throw .wrongType(path: path, expected: "string or array of text parts", found: value.typeName)
        }
    }

    // MARK: tools

    private static func parseTool(_ value: JSONValue, path: String) throws(ChatRequestError) -> ChatTool {
        guard case .object(let obj) = value else {
            throw .wrongType(path: path, expected: "object", found: value.typeName)
        }
        let (f, name) = try functionEnvelope(obj, path: path, kind: "tools")
        if name.isEmpty { throw .invalidValue(path: "\(path).function.name", message: "function name is empty") }
        let description = try optionalString(f["description"], "\(path).function.description") ?? ""
        var parameters: JSONValue? = nil
        if let p = f["parameters"], !p.isNull {
            guard case .object = p else {
                throw .wrongType(path: "\(path).function.parameters", expected: "object (a JSON schema)", found: p.typeName)
            }
            parameters = p
        }
        let strict = try optionalBool(f["strict"], "\(path).function.strict")
        return ChatTool(name: name, description: description, parameters: parameters, strict: strict)
    }

    // MARK: scalar helpers (null and missing both mean absent)

    private static func optionalString(_ v: JSONValue?, _ path: String) throws(ChatRequestError) -> String? {
        guard let v, !v.isNull else { return nil }
        guard case .string(let s) = v else { throw .wrongType(path: path, expected: "string", found: v.typeName) }
        return s
    }

    private static func optionalBool(_ v: JSONValue?, _ path: String) throws(ChatRequestError) -> Bool? {
        guard let v, !v.isNull else { return nil }
        guard case .bool(let b) = v else { throw .wrongType(path: path, expected: "boolean", found: v.typeName) }
        return b
    }

    private static func optionalInt(_ v: JSONValue?, _ path: String) throws(ChatRequestError) -> Int? {
        guard let v, !v.isNull else { return nil }
        guard case .number(let n) = v else { throw .wrongType(path: path, expected: "integer", found: v.typeName) }
        guard let i = n.intValue else { throw .wrongType(path: path, expected: "integer", found: "number \(n.text)") }
        return i
    }

    private static func optionalDouble(_ v: JSONValue?, _ path: String) throws(ChatRequestError) -> Double? {
        guard let v, !v.isNull else { return nil }
        guard case .number(let n) = v else { throw .wrongType(path: path, expected: "number", found: v.typeName) }
        return n.doubleValue
    }
}
