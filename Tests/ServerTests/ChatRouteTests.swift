// /v1/chat/completions against the stub engine: JSON and SSE shapes, reasoning_content, tool_calls,
// finish reasons, usage, stop strings, and what reaches the engine (prompt, limits, sampling).
import Engine
import Foundation
import HummingbirdTesting
import Server
import XCTest

final class ChatRouteTests: XCTestCase {
    static let hello = #"{"model":"gpt-oss-test","messages":[{"role":"user","content":"hi"}]"#

    func testNonStreamingReplyHasOpenAIShapeReasoningAndUsage() async throws {
        let h = Harness { _ in .reply([Marker.analysis] + bytes("think") + [Marker.final] + bytes("Hello!") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", Self.hello + "}")
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "application/json")
            XCTAssertEqual(r.headers[.connection], "close", "the connection was watched for a disconnect; it is not reused")
            let body = jsonObject(r.body)
            XCTAssertEqual(body["object"] as? String, "chat.completion")
            XCTAssertEqual(body["model"] as? String, "gpt-oss-test")
            XCTAssertTrue((body["id"] as? String)?.hasPrefix("chatcmpl-") ?? false)
            let choice = try XCTUnwrap((body["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["index"] as? Int, 0)
            XCTAssertEqual(choice["finish_reason"] as? String, "stop")
            let message = try XCTUnwrap(choice["message"] as? [String: Any])
            XCTAssertEqual(message["role"] as? String, "assistant")
            XCTAssertEqual(message["content"] as? String, "Hello!")
            XCTAssertEqual(message["reasoning_content"] as? String, "think")
            XCTAssertNil(message["tool_calls"])
            let usage = try XCTUnwrap(body["usage"] as? [String: Int])
            // prompt "hi" = 2 tokens; 1 + 5 + 1 + 6 + 1 sampled tokens
            XCTAssertEqual(usage, ["prompt_tokens": 2, "completion_tokens": 14, "total_tokens": 16])
        }
        let sent = try XCTUnwrap(h.engine.submitted.first)
        XCTAssertEqual(sent.promptTokens, bytes("hi"))
        XCTAssertEqual(sent.stopTokens, [Marker.return, Marker.call])
        XCTAssertEqual(sent.maxTokens, 256 - 2, "no max_tokens: the rest of the context")
    }

    func testSamplingFieldsReachTheEngine() async throws {
        let h = Harness { _ in .reply(bytes("ok") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions",
                                          Self.hello + #","max_completion_tokens":7,"max_tokens":99,"temperature":0.5,"top_p":0.9,"seed":42}"#)
            XCTAssertEqual(r.status, .ok)
        }
        let sent = try XCTUnwrap(h.engine.submitted.first)
        XCTAssertEqual(sent.maxTokens, 7, "max_completion_tokens wins over max_tokens")
        XCTAssertEqual(sent.sampling.temperature, 0.5)
        XCTAssertEqual(sent.sampling.topP, 0.9)
        XCTAssertEqual(sent.sampling.seed, 42)
    }

    func testLengthFinishReason() async throws {
        let h = Harness { _ in .reply(bytes("abcdefgh") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", Self.hello + #","max_tokens":3}"#)
            let choice = try XCTUnwrap((jsonObject(r.body)["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["finish_reason"] as? String, "length")
            XCTAssertEqual((choice["message"] as? [String: Any])?["content"] as? String, "abc")
            XCTAssertEqual((jsonObject(r.body)["usage"] as? [String: Int])?["completion_tokens"], 3)
        }
    }

    func testToolCallNonStreaming() async throws {
        let h = Harness { _ in .reply([Marker.analysis] + bytes("need weather") + [Marker.toolCall] + bytes(#"{"city":"Paris"}"#) + [Marker.call]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", Self.hello + "}")
            let choice = try XCTUnwrap((jsonObject(r.body)["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["finish_reason"] as? String, "tool_calls")
            let message = try XCTUnwrap(choice["message"] as? [String: Any])
            XCTAssertTrue(message["content"] is NSNull, "content is null when the reply is only a call")
            XCTAssertEqual(message["reasoning_content"] as? String, "need weather")
            let calls = try XCTUnwrap(message["tool_calls"] as? [[String: Any]])
            XCTAssertEqual(calls.count, 1)
            XCTAssertTrue((calls[0]["id"] as? String)?.hasPrefix("call_") ?? false)
            XCTAssertEqual(calls[0]["type"] as? String, "function")
            let function = try XCTUnwrap(calls[0]["function"] as? [String: Any])
            XCTAssertEqual(function["name"] as? String, "get_weather")
            XCTAssertEqual(function["arguments"] as? String, #"{"city":"Paris"}"#)
        }
    }

    func testStreamingChunksRoleDeltasFinishUsageAndDone() async throws {
        let h = Harness { _ in .reply([Marker.analysis] + bytes("hm") + [Marker.final] + bytes("Yo") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions",
                                          Self.hello + #","stream":true,"stream_options":{"include_usage":true}}"#)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "text/event-stream")
            XCTAssertEqual(r.headers[.connection], "close")
            let events = sseEvents(r.body)
            XCTAssertEqual(events.count, 7, "role, 2 reasoning, 2 content, finish, usage")
            let ids = Set(events.compactMap { $0["id"] as? String })
            XCTAssertEqual(ids.count, 1, "every chunk carries the same id")
            XCTAssertTrue(events.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            func delta(_ i: Int) -> [String: Any]? {
                ((events[i]["choices"] as? [[String: Any]])?.first)?["delta"] as? [String: Any]
            }
            XCTAssertEqual(delta(0)?["role"] as? String, "assistant")
            XCTAssertEqual(delta(1)?["reasoning_content"] as? String, "h")
            XCTAssertEqual(delta(2)?["reasoning_content"] as? String, "m")
            XCTAssertEqual((delta(3)?["content"] as? String ?? "") + (delta(4)?["content"] as? String ?? ""), "Yo")
            let finish = (events[5]["choices"] as? [[String: Any]])?.first
            XCTAssertEqual(finish?["finish_reason"] as? String, "stop")
            XCTAssertTrue(events[0]["usage"] is NSNull, "usage is null on content chunks when include_usage")
            XCTAssertEqual((events[6]["choices"] as? [Any])?.count, 0)
            XCTAssertEqual(events[6]["usage"] as? [String: Int], ["prompt_tokens": 2, "completion_tokens": 7, "total_tokens": 9])
        }
    }

    func testStreamingWithoutIncludeUsageHasNoUsageKey() async throws {
        let h = Harness { _ in .reply(bytes("a") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", Self.hello + #","stream":true}"#)
            let events = sseEvents(r.body)
            XCTAssertEqual(events.count, 3)
            XCTAssertTrue(events.allSatisfy { $0["usage"] == nil })
        }
    }

    func testStreamingToolCallDeltas() async throws {
        let h = Harness { _ in .reply([Marker.toolCall] + bytes("{}") + [Marker.call]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", Self.hello + #","stream":true}"#)
            let events = sseEvents(r.body)
            let deltas = events.compactMap { (($0["choices"] as? [[String: Any]])?.first)?["delta"] as? [String: Any] }
            let calls = deltas.compactMap { ($0["tool_calls"] as? [[String: Any]])?.first }
            XCTAssertEqual(calls.count, 3, "begin + 2 argument deltas")
            XCTAssertTrue((calls[0]["id"] as? String)?.hasPrefix("call_") ?? false)
            XCTAssertEqual(calls[0]["type"] as? String, "function")
            XCTAssertEqual((calls[0]["function"] as? [String: Any])?["name"] as? String, "get_weather")
            XCTAssertEqual(calls.map { $0["index"] as? Int }, [0, 0, 0])
            let args = calls.dropFirst().compactMap { ($0["function"] as? [String: Any])?["arguments"] as? String }.joined()
            XCTAssertEqual(args, "{}")
            let finish = (events.last?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String
            XCTAssertEqual(finish, "tool_calls")
        }
    }

    func testForcedFunctionFromToolChoice() async throws {
        let h = Harness { _ in .reply(bytes(#"{"a":1}"#) + [Marker.call]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions",
                                          Self.hello + #","tool_choice":{"type":"function","function":{"name":"lookup"}}}"#)
            let choice = try XCTUnwrap((jsonObject(r.body)["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["finish_reason"] as? String, "tool_calls")
            let call = try XCTUnwrap(((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first)
            XCTAssertEqual((call["function"] as? [String: Any])?["name"] as? String, "lookup")
            XCTAssertEqual((call["function"] as? [String: Any])?["arguments"] as? String, #"{"a":1}"#)
        }
    }

    func testStopStringCutsContentAndCancelsTheEngineRequest() async throws {
        let h = Harness { _ in .reply(bytes("one, two, END three") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", Self.hello + #","stop":["END"]}"#)
            let choice = try XCTUnwrap((jsonObject(r.body)["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual((choice["message"] as? [String: Any])?["content"] as? String, "one, two, ")
            XCTAssertEqual(choice["finish_reason"] as? String, "stop")
            let usage = try XCTUnwrap(jsonObject(r.body)["usage"] as? [String: Int])
            XCTAssertEqual(usage["completion_tokens"], 13, "tokens up to the one completing the stop string")
        }
        XCTAssertEqual(h.engine.cancelCount, 1)
    }

    func testStopStringInStreamNeverLeaksAPartialMatch() async throws {
        let h = Harness { _ in .reply(bytes("abEcdENDx") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/chat/completions", Self.hello + #","stop":"END","stream":true}"#)
            let events = sseEvents(r.body)
            let text = events.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
            XCTAssertEqual(text, "abEcd")
        }
    }
}
