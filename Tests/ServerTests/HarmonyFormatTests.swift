// The real ChatFormat (harmony + o200k tokenizer): request bodies → harmony prompt ids, forced tool
// calls → prefilled reply header, parser errors → OpenAI errors with field paths, harmony output ids →
// reasoning / content / tool calls, and raw completions prompts. Also one route run end to end with
// the real format over the stub engine.
import Engine
import Foundation
import Harmony
import HummingbirdTesting
@testable import Server
import Tokenizer
import XCTest

final class HarmonyFormatTests: XCTestCase {
    static let tokenizer: O200kTokenizer = try! O200kTokenizer.harmony()
    let format = HarmonyChatFormat(tokenizer: HarmonyFormatTests.tokenizer, date: { nil })
    static let weatherTool = #"{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}"#

    func ids(_ harmonyText: String) throws -> [Int32] {
        try Self.tokenizer.encode(harmonyText, allowedSpecial: .all).map { Int32($0) }
    }

    func text(_ ids: [Int32]) -> String { Self.tokenizer.decode(ids.map { UInt32($0) }) }

    func testChatPromptIsHarmonyWithStopTokensAndOptions() throws {
        let chat = try format.prepareChat(body: Array(#"""
        {"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],
         "max_completion_tokens":9,"temperature":0.3,"top_p":0.8,"seed":7,"stop":"x","stream":true,
         "stream_options":{"include_usage":true},"reasoning_effort":"high"}
        """#.utf8))
        let rendered = text(chat.promptTokens)
        XCTAssertTrue(rendered.hasPrefix("<|start|>system<|message|>You are ChatGPT"), rendered)
        XCTAssertTrue(rendered.contains("Reasoning: high"), rendered)
        XCTAssertTrue(rendered.contains("<|start|>developer<|message|># Instructions\n\nBe brief.<|end|>"), rendered)
        XCTAssertTrue(rendered.hasSuffix("<|start|>user<|message|>Hi<|end|><|start|>assistant"), rendered)
        XCTAssertEqual(chat.stopTokens, [200002, 200012], "<|return|> and <|call|>")
        XCTAssertNil(chat.forcedFunction)
        XCTAssertEqual(chat.options, CompletionOptions(model: "m", maxTokens: 9, maxTokensField: "max_completion_tokens",
                                                       temperature: 0.3, topP: 0.8, seed: 7, stop: ["x"], stream: true,
                                                       includeUsage: true, n: nil))
    }

    func testNamedToolChoicePrefillsTheCallHeader() throws {
        let chat = try format.prepareChat(body: Array(("""
        {"messages":[{"role":"user","content":"Weather?"}],"tools":[\(Self.weatherTool)],
         "tool_choice":{"type":"function","function":{"name":"get_weather"}}}
        """).utf8))
        XCTAssertEqual(chat.forcedFunction, "get_weather")
        XCTAssertTrue(text(chat.promptTokens).hasSuffix(
            "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>"))
        // The parser starts inside that call: the first sampled token already is an argument.
        let parser = format.makeChatParser(for: chat)
        var events: [ChatOutputEvent] = []
        for t in try ids(#"{"city":"Paris"}<|call|>"#) { events += parser.feed(t) }
        XCTAssertEqual(events.first, .toolCallBegin(name: "get_weather"))
        XCTAssertEqual(events.compactMap { if case .toolCallArguments(let a) = $0 { return a } else { return nil } }.joined(),
                       #"{"city":"Paris"}"#)
        XCTAssertEqual(Array(events.suffix(2)), [.toolCallEnd, .turnEnd(toolCall: true)])
    }

    func testToolChoiceNoneDropsToolsAndUnknownFunctionIsRejected() throws {
        let none = try format.prepareChat(body: Array(("""
        {"messages":[{"role":"user","content":"Hi"}],"tools":[\(Self.weatherTool)],"tool_choice":"none"}
        """).utf8))
        XCTAssertFalse(text(none.promptTokens).contains("get_weather"))
        XCTAssertThrowsError(try format.prepareChat(body: Array(("""
        {"messages":[{"role":"user","content":"Hi"}],"tools":[\(Self.weatherTool)],
         "tool_choice":{"type":"function","function":{"name":"nope"}}}
        """).utf8))) { error in
            XCTAssertEqual((error as? APIError)?.param, "tool_choice")
            XCTAssertEqual((error as? APIError)?.status, .badRequest)
        }
    }

    func testParserErrorsBecomeOpenAIErrorsWithFieldPaths() {
        func apiError(_ body: String) -> APIError? {
            do { _ = try format.prepareChat(body: Array(body.utf8)); return nil } catch { return error as? APIError }
        }
        XCTAssertEqual(apiError(#"{"messages": [1,"#)?.code, "invalid_json")
        XCTAssertEqual(apiError(#"{"model":"m"}"#)?.param, "messages")
        XCTAssertEqual(apiError(#"{"model":"m"}"#)?.code, "missing_required_parameter")
        let wrong = apiError(#"{"messages":[{"role":"user","content":"a"}],"max_tokens":"many"}"#)
        XCTAssertEqual(wrong?.param, "max_tokens")
        XCTAssertEqual(wrong?.code, "invalid_type")
        XCTAssertEqual(apiError(#"{"messages":[{"role":"robot","content":"a"}]}"#)?.param, "messages[0].role")
        XCTAssertEqual(apiError(#"[1,2]"#)?.code, "invalid_type")
    }

    func testOutputEventsFromHarmonyTokens() throws {
        let chat = try format.prepareChat(body: Array(#"{"messages":[{"role":"user","content":"Hi"}]}"#.utf8))
        let parser = format.makeChatParser(for: chat)
        var events: [ChatOutputEvent] = []
        for t in try ids("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>Hello!<|return|>") {
            events += parser.feed(t)
        }
        events += parser.finish()
        let reasoning = events.compactMap { if case .reasoning(let r) = $0 { return r } else { return nil } }.joined()
        let content = events.compactMap { if case .content(let c) = $0 { return c } else { return nil } }.joined()
        XCTAssertEqual(reasoning, "Think.")
        XCTAssertEqual(content, "Hello!")
        XCTAssertEqual(events.last, .turnEnd(toolCall: false))
    }

    func testTextOutsideHarmonyIsSurfacedAsContent() throws {
        let chat = try format.prepareChat(body: Array(#"{"messages":[{"role":"user","content":"Hi"}]}"#.utf8))
        let parser = format.makeChatParser(for: chat)
        var events: [ChatOutputEvent] = []
        for t in try ids(" random words") { events += parser.feed(t) }
        events += parser.finish()
        XCTAssertEqual(events, [.content(" random words")], "a random model's text is not silently dropped")
    }

    func testCompletionPromptForms() throws {
        let text = try format.prepareCompletion(body: Array(#"{"prompt":"Once upon a time","max_tokens":3,"echo":true}"#.utf8))
        XCTAssertEqual(text.promptTokens.count, 4)
        XCTAssertEqual(text.options.maxTokens, 3)
        XCTAssertTrue(text.echo)
        let special = try format.prepareCompletion(body: Array(#"{"prompt":"<|start|>user"}"#.utf8))
        XCTAssertEqual(special.promptTokens.first, 200006, "harmony special tokens are recognized in raw prompts")
        XCTAssertEqual(special.options.maxTokens, 16, "OpenAI's default for completions")
        let list = try format.prepareCompletion(body: Array(#"{"prompt":[9906, 1917]}"#.utf8))
        XCTAssertEqual(list.promptTokens, [9906, 1917])
        let one = try format.prepareCompletion(body: Array(#"{"prompt":["Hello"]}"#.utf8))
        XCTAssertEqual(one.promptText, "Hello")
        for bad in [#"{"prompt":["a","b"]}"#, #"{"prompt":[-1]}"#, #"{"prompt":5}"#, #"{"prompt":"a","stream":1}"#, #"{}"#] {
            XCTAssertThrowsError(try format.prepareCompletion(body: Array(bad.utf8)), bad) { error in
                XCTAssertEqual((error as? APIError)?.status, .badRequest, bad)
            }
        }
    }

    func testChatRouteWithTheRealFormat() async throws {
        let output = try ids("<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>")
        let h = Harness(maxContext: 4096, format: format) { _ in .reply(output) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions",
                                          #"{"messages":[{"role":"user","content":"Weather in Paris?"}],"tools":["# + Self.weatherTool + "]}")
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            let choice = try XCTUnwrap((jsonObject(r.body)["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["finish_reason"] as? String, "tool_calls")
            let message = try XCTUnwrap(choice["message"] as? [String: Any])
            XCTAssertEqual(message["reasoning_content"] as? String, "Need weather.")
            XCTAssertTrue(message["content"] is NSNull)
            let call = try XCTUnwrap((message["tool_calls"] as? [[String: Any]])?.first)
            XCTAssertEqual((call["function"] as? [String: Any])?["name"] as? String, "get_weather")
            XCTAssertEqual((call["function"] as? [String: Any])?["arguments"] as? String, #"{"city":"Paris"}"#)
            XCTAssertEqual((jsonObject(r.body)["usage"] as? [String: Int])?["completion_tokens"], output.count)
        }
    }
}
