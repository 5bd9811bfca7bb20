// ChatRequest parsing: fields kept for the server/CLI, mapping rules, and every kind of bad input
// (each error names the field path).
import XCTest
@testable import Harmony

final class ChatRequestTests: XCTestCase {
    private func parseError(_ json: String) -> ChatRequestError? {
        do { _ = try ChatRequest.parse(json: json); return nil } catch { return error }
    }

    func testSamplingFieldsAreKept() throws {
        let r = try ChatRequest.parse(json: """
            {"model":"gpt-oss-20b","messages":[{"role":"user","content":"hi"}],"max_tokens":100,
             "max_completion_tokens":50,"temperature":0.7,"top_p":0.9,"seed":7,"stop":"\\n","stream":true,
             "stream_options":{"include_usage":true},"n":1,"tool_choice":"auto","reasoning_effort":"low","user":"x"}
            """)
        XCTAssertEqual(r.model, "gpt-oss-20b")
        XCTAssertEqual(r.maxTokens, 100)
        XCTAssertEqual(r.maxCompletionTokens, 50)
        XCTAssertEqual(r.completionTokenLimit, 50)
        XCTAssertEqual(r.temperature, 0.7)
        XCTAssertEqual(r.topP, 0.9)
        XCTAssertEqual(r.seed, 7)
        XCTAssertEqual(r.stop, ["\n"])
        XCTAssertTrue(r.stream)
        XCTAssertEqual(r.streamOptions, ChatStreamOptions(includeUsage: true))
        XCTAssertEqual(r.n, 1)
        XCTAssertEqual(r.toolChoice, "auto")
        XCTAssertEqual(r.reasoningEffort, .low)
        XCTAssertEqual(r.body["user"], "x")
    }

    func testDefaults() throws {
        let r = try ChatRequest.parse(json: #"{"messages":[{"role":"user","content":""}],"tools":null,"stop":null}"#)
        XCTAssertEqual(r.reasoningEffort, .medium)
        XCTAssertEqual(r.tools, [])
        XCTAssertEqual(r.stop, [])
        XCTAssertFalse(r.stream)
        XCTAssertEqual(r.messages, [.user(parts: [""], name: nil)])
    }

    func testAssistantAndToolMapping() throws {
        let r = try ChatRequest.parse(json: #"""
            {"messages":[{"role":"user","content":"q"},
             {"role":"assistant","content":"","reasoning_content":null,"tool_calls":[
               {"id":"a","type":"function","function":{"name":"f","arguments":" {\"x\" : 1} "}}]},
             {"role":"tool","tool_call_id":"a","content":"r1"},
             {"role":"tool","name":"g","content":[{"type":"text","text":"r2"}]}]}
            """#)
        XCTAssertEqual(r.messages[1], .assistant(ChatAssistantMessage(
            reasoning: nil, content: [], toolCalls: [ChatToolCall(id: "a", name: "f", arguments: " {\"x\" : 1} ")])))
        XCTAssertEqual(r.messages[2], .tool(ChatToolMessage(toolCallID: "a", name: "f", content: ["r1"])))
        XCTAssertEqual(r.messages[3], .tool(ChatToolMessage(toolCallID: nil, name: "g", content: ["r2"])))
        let conv = r.harmonyConversation()
        XCTAssertEqual(conv.messages[2], HarmonyMessage(author: HarmonyAuthor(.assistant), content: [.text(" {\"x\" : 1} ")],
                                                        channel: "commentary", recipient: "functions.f",
                                                        contentType: "<|constrain|>json"))
        XCTAssertEqual(conv.messages[3], HarmonyMessage(author: HarmonyAuthor(.tool, name: "functions.f"), content: [.text("r1")],
                                                        channel: "commentary", recipient: "assistant"))
    }

    func testNoDeveloperMessageWithoutInstructionsOrTools() throws {
        let r = try ChatRequest.parse(json: #"{"messages":[{"role":"system","content":null},{"role":"user","content":"x"}],"tools":[]}"#)
        XCTAssertEqual(r.harmonyConversation().messages.map(\.author.role), [.system, .user])
    }

    // MARK: bad input

    /// Byte-level mutations of every fixture request either parse or throw; none traps, and whatever
    /// parses also renders.
    func testMutatedRequestsNeverCrash() throws {
        var state: UInt64 = 42
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        let alphabet = Array("{}[]\":,0123456789.eE-+ \\untrfalsenull\u{00}\u{1F}é😀".utf8)
        var parsed = 0
        for c in try RenderTests.renderCases() {
            let original = Array(c.request.utf8)
            for _ in 0..<60 {
                var b = original
                for _ in 0..<(1 + next() % 3) {
                    let i = next() % max(b.count, 1)
                    switch next() % 3 {
                    case 0: b[i] = alphabet[next() % alphabet.count]
                    case 1: b.remove(at: i)
                    default: b.insert(alphabet[next() % alphabet.count], at: i)
                    }
                }
                if let r = try? ChatRequest.parse(jsonBytes: b) {
                    parsed += 1
                    XCTAssertFalse(HarmonyRenderer().piecesForCompletion(r).isEmpty)
                }
            }
        }
        XCTAssertGreaterThan(parsed, 0)
    }

    func testInvalidJSON() {
        let e = parseError("{\"messages\": [\n  {\"role\": \"user\", \"content\": \"hi\"},\n]}")
        guard case .invalidJSON(let j)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertEqual(j.line, 3)
        XCTAssertEqual(e?.description, "request is not valid JSON: line 3, column 1: unexpected ']', expected a value")
        XCTAssertNotNil(parseError(""))
        XCTAssertEqual(parseError("[]")?.description, "(request body): expected object, found array")
    }

    func testInvalidUTF8() {
        do {
            _ = try ChatRequest.parse(jsonBytes: Array(#"{"messages":[{"role":"user","content":""#.utf8) + [0xFF] + Array(#""}]}"#.utf8))
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.description, "request is not valid JSON: line 1, column 40: invalid UTF-8 byte 0xFF")
        }
    }

    func testUnknownRole() {
        let e = parseError(#"{"messages":[{"role":"user","content":"a"},{"role":"function","content":"b"}]}"#)
        XCTAssertEqual(e, .unknownRole(path: "messages[1].role", role: "function"))
        XCTAssertEqual(e?.description, "messages[1].role: unknown role \"function\" (expected system, developer, user, assistant or tool)")
    }

    func testToolMessageWithoutMatchingCall() {
        let e = parseError(#"{"messages":[{"role":"user","content":"a"},{"role":"tool","tool_call_id":"nope","content":"b"}]}"#)
        XCTAssertEqual(e, .unmatchedToolMessage(path: "messages[1]", toolCallID: "nope"))
        XCTAssertEqual(e?.description, "messages[1]: tool message has no \"name\" and its tool_call_id \"nope\" matches no earlier assistant tool call")
        // A call that comes later does not count.
        let later = parseError(#"""
            {"messages":[{"role":"tool","tool_call_id":"x","content":"b"},
             {"role":"assistant","tool_calls":[{"id":"x","type":"function","function":{"name":"f","arguments":"{}"}}]}]}
            """#)
        XCTAssertEqual(later, .unmatchedToolMessage(path: "messages[0]", toolCallID: "x"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"tool","content":"b"}]}"#),
                       .unmatchedToolMessage(path: "messages[0]", toolCallID: nil))
    }

    func testWrongTypes() {
        XCTAssertEqual(parseError(#"{"messages":{"role":"user"}}"#),
                       .wrongType(path: "messages", expected: "array", found: "object"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":3,"content":"x"}]}"#),
                       .wrongType(path: "messages[0].role", expected: "string", found: "number"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":5}]}"#),
                       .wrongType(path: "messages[0].content", expected: "string or array of text parts", found: "number"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}"#),
                       .invalidValue(path: "messages[0].content[0].type", message: "unsupported content part type \"image_url\" (only \"text\" parts are supported)"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#),
                       .wrongType(path: "temperature", expected: "number", found: "string"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"max_tokens":1.5}"#),
                       .wrongType(path: "max_tokens", expected: "integer", found: "number 1.5"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"stream":"yes"}"#),
                       .wrongType(path: "stream", expected: "boolean", found: "string"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":[]}}]}"#),
                       .wrongType(path: "tools[0].function.parameters", expected: "object (a JSON schema)", found: "array"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":{"a":1}}}]}]}"#),
                       .wrongType(path: "messages[0].tool_calls[0].function.arguments", expected: "string", found: "object"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"extreme"}"#),
                       .invalidValue(path: "reasoning_effort", message: "expected \"low\", \"medium\" or \"high\", found \"extreme\""))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"stop":[1]}"#),
                       .wrongType(path: "stop[0]", expected: "string", found: "number"))
    }

    func testMissingFields() {
        XCTAssertEqual(parseError(#"{"model":"m"}"#), .missingField(path: "messages"))
        XCTAssertEqual(parseError(#"{"messages":[{"content":"x"}]}"#), .missingField(path: "messages[0].role"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user"}]}"#), .missingField(path: "messages[0].content"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}"#),
                       .missingField(path: "tools[0].function"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]}"#),
                       .missingField(path: "tools[0].function.name"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]}]}"#),
                       .missingField(path: "messages[0].tool_calls[0].function.arguments"))
    }

    /// Tools and assistant tool calls share the {"type": "function", "function": {...}} envelope checks.
    func testFunctionEnvelopeErrorsForToolsAndToolCalls() {
        XCTAssertEqual(parseError(#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"retrieval","function":{"name":"f"}}]}"#),
                       .invalidValue(path: "tools[0].type", message: "only \"function\" tools are supported, found \"retrieval\""))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"assistant","tool_calls":[{"type":"web","function":{"name":"f","arguments":"{}"}}]}]}"#),
                       .invalidValue(path: "messages[0].tool_calls[0].type", message: "only \"function\" tool calls are supported, found \"web\""))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"assistant","tool_calls":[{"function":"f"}]}]}"#),
                       .wrongType(path: "messages[0].tool_calls[0].function", expected: "object", found: "string"))
        XCTAssertEqual(parseError(#"{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"arguments":"{}"}}]}]}"#),
                       .missingField(path: "messages[0].tool_calls[0].function.name"))
    }
}
