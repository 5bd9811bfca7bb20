// /health, /v1/models, /metrics and /v1/completions (raw prompt: text and token ids, echo, stop,
// streaming) against the stub engine.
import Engine
import Foundation
import HummingbirdTesting
import Server
import XCTest

final class InfoAndCompletionRouteTests: XCTestCase {
    func testHealthAndModels() async throws {
        let h = Harness { _ in .reply([]) }
        try await h.app.test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok)
            XCTAssertEqual(String(buffer: health.body), #"{"status":"ok"}"#)
            let models = jsonObject(try await client.execute(uri: "/v1/models", method: .get).body)
            XCTAssertEqual(models["object"] as? String, "list")
            let data = try XCTUnwrap(models["data"] as? [[String: Any]])
            XCTAssertEqual(data.count, 1)
            XCTAssertEqual(data[0]["id"] as? String, "gpt-oss-test")
            XCTAssertEqual(data[0]["object"] as? String, "model")
            XCTAssertNotNil(data[0]["created"] as? Int)
            let one = try await client.execute(uri: "/v1/models/gpt-oss-test", method: .get)
            XCTAssertEqual(one.status, .ok)
            let missing = try await client.execute(uri: "/v1/models/other", method: .get)
            XCTAssertEqual(missing.status, .notFound)
        }
    }

    func testMetricsExposition() async throws {
        let h = Harness { _ in .reply(bytes("ok") + [Marker.return]) }
        try await h.app.test(.router) { client in
            _ = try await client.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}]}"#)
            _ = try await client.post("/v1/chat/completions", #"{"messages":[}"#)
            let r = try await client.execute(uri: "/metrics", method: .get)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "text/plain; version=0.0.4; charset=utf-8")
            let text = String(buffer: r.body)
            for line in [
                #"gptoss_http_requests_total{route="/v1/chat/completions",status="200"} 1"#,
                #"gptoss_http_requests_total{route="/v1/chat/completions",status="400"} 1"#,
                #"gptoss_http_request_duration_seconds_count{route="/v1/chat/completions"} 2"#,
                #"gptoss_http_request_duration_seconds_bucket{route="/v1/chat/completions",le="+Inf"} 2"#,
                "gptoss_engine_requests_submitted_total 1",
                "gptoss_queue_length 0",
                "gptoss_kv_slots 4",
                "gptoss_kv_slots_in_use 0",
                "gptoss_prompt_tokens_reused_total 0",
                "# TYPE gptoss_time_to_first_token_seconds histogram",
                "# TYPE gptoss_generation_tokens_total counter",
            ] {
                XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in\n\(text)")
            }
        }
    }

    func testCompletionFromTextAndFromTokenIDs() async throws {
        let h = Harness { _ in .reply(bytes(" world")) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"model":"gpt-oss-test","prompt":"hello","max_tokens":4}"#)
            XCTAssertEqual(r.status, .ok)
            let body = jsonObject(r.body)
            XCTAssertEqual(body["object"] as? String, "text_completion")
            XCTAssertTrue((body["id"] as? String)?.hasPrefix("cmpl-") ?? false)
            let choice = try XCTUnwrap((body["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["text"] as? String, " wor")
            XCTAssertEqual(choice["finish_reason"] as? String, "length")
            XCTAssertEqual(body["usage"] as? [String: Int], ["prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9])

            let ids = try await client.post("/v1/completions", #"{"prompt":[104,105],"max_tokens":2,"echo":false}"#)
            XCTAssertEqual(ids.status, .ok)
        }
        XCTAssertEqual(h.engine.submitted.map(\.promptTokens), [bytes("hello"), [104, 105]])
        XCTAssertEqual(h.engine.submitted.first?.stopTokens, [], "raw completions have no harmony stop tokens")
    }

    func testCompletionEchoStopAndStream() async throws {
        let h = Harness { _ in .reply(bytes("abc.def"), .length) }
        try await h.app.test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"prompt":"P:","echo":true,"stop":"."}"#)
            let choice = try XCTUnwrap((jsonObject(r.body)["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["text"] as? String, "P:abc")
            XCTAssertEqual(choice["finish_reason"] as? String, "stop")

            let s = try await client.post("/v1/completions",
                                          #"{"prompt":"P:","stream":true,"stream_options":{"include_usage":true}}"#)
            let events = sseEvents(s.body)
            let texts = events.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }
            XCTAssertEqual(texts.joined(), "abc.def")
            let finishes = events.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            XCTAssertEqual(finishes, ["length"])
            XCTAssertEqual(events.last?["usage"] as? [String: Int], ["prompt_tokens": 2, "completion_tokens": 7, "total_tokens": 9])
        }
    }
}
