// Bad input never crashes and always gets an OpenAI error body with the right status: invalid JSON,
// wrong types, missing messages, unknown model, n > 1, out-of-range sampling fields, max_tokens below 1
// or past the context, a prompt longer than the context, an oversized body, unknown URLs, and API keys.
// After each bad request, a good one is still served.
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import XCTest

final class ErrorRouteTests: XCTestCase {
    let h = Harness(maxContext: 32, maxBodyBytes: 512) { _ in .reply(bytes("ok") + [Marker.return]) }
    static let user = #""messages":[{"role":"user","content":"hi"}]"#

    func assertError(_ body: String, status: HTTPResponse.Status, param: String?, code: String?,
                     uri: String = "/v1/chat/completions", message: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) async throws {
        try await h.app.test(.router) { client in
            let r = try await client.post(uri, body)
            XCTAssertEqual(r.status, status, String(buffer: r.body), file: file, line: line)
            let error = errorObject(r.body, file: file, line: line)
            XCTAssertEqual(error["param"] as? String, param, file: file, line: line)
            XCTAssertEqual(error["code"] as? String, code, file: file, line: line)
            if let message { XCTAssertEqual(error["message"] as? String, message, file: file, line: line) }
            XCTAssertFalse((error["message"] as? String ?? "").isEmpty, file: file, line: line)
            // The server keeps serving.
            let ok = try await client.post("/v1/chat/completions", "{" + Self.user + "}")
            XCTAssertEqual(ok.status, .ok, file: file, line: line)
        }
    }

    func testInvalidJSON() async throws {
        try await assertError(#"{"messages": [}"#, status: .badRequest, param: nil, code: "invalid_json")
    }

    func testMissingMessages() async throws {
        try await assertError(#"{"model":"gpt-oss-test"}"#, status: .badRequest, param: "messages", code: "missing_required_parameter")
    }

    func testWrongType() async throws {
        try await assertError("{" + Self.user + #","max_tokens":"ten"}"#, status: .badRequest, param: "max_tokens",
                              code: "invalid_type")
    }

    func testUnknownModel() async throws {
        try await assertError(#"{"model":"gpt-5","# + Self.user + "}", status: .notFound, param: "model",
                              code: "model_not_found",
                              message: "The model `gpt-5` does not exist or you do not have access to it.")
    }

    func testMoreThanOneChoice() async throws {
        try await assertError("{" + Self.user + #","n":2}"#, status: .badRequest, param: "n", code: nil)
    }

    func testTemperatureAndTopPRanges() async throws {
        try await assertError("{" + Self.user + #","temperature":2.5}"#, status: .badRequest, param: "temperature", code: nil)
        try await assertError("{" + Self.user + #","top_p":0}"#, status: .badRequest, param: "top_p", code: nil)
    }

    func testNegativeAndZeroMaxTokens() async throws {
        try await assertError("{" + Self.user + #","max_tokens":-5}"#, status: .badRequest, param: "max_tokens", code: nil,
                              message: "max_tokens must be at least 1, got -5.")
        try await assertError("{" + Self.user + #","max_completion_tokens":0}"#, status: .badRequest,
                              param: "max_completion_tokens", code: nil)
    }

    func testHugeMaxTokensExceedsContext() async throws {
        try await assertError("{" + Self.user + #","max_tokens":1000000}"#, status: .badRequest, param: "max_tokens",
                              code: "context_length_exceeded",
                              message: "This model's maximum context length is 32 tokens. However, you requested 1000002 tokens (2 in the prompt, 1000000 in the completion). Please reduce the length of the prompt or the completion.")
    }

    func testPromptLongerThanContext() async throws {
        let long = String(repeating: "x", count: 40)
        try await assertError(#"{"messages":[{"role":"user","content":""# + long + #""}]}"#, status: .badRequest,
                              param: "messages", code: "context_length_exceeded")
        XCTAssertEqual(h.engine.submitCount, 1, "only the good request reached the engine")
    }

    func testBodyOverTheLimit() async throws {
        let big = String(repeating: "y", count: 600)
        try await assertError(#"{"messages":[{"role":"user","content":""# + big + #""}]}"#, status: .contentTooLarge,
                              param: nil, code: "request_too_large")
    }

    func testUnknownURL() async throws {
        try await assertError("{}", status: .notFound, param: nil, code: "unknown_url", uri: "/v1/embeddings",
                              message: "Unknown request URL: POST /v1/embeddings.")
    }

    func testCompletionsErrors() async throws {
        try await assertError(#"{"model":"x","prompt":"a"}"#, status: .notFound, param: "model", code: "model_not_found",
                              uri: "/v1/completions")
        try await assertError(#"{"max_tokens":5}"#, status: .badRequest, param: "prompt", code: "missing_required_parameter", uri: "/v1/completions")
        try await assertError(#"{"prompt":"abc","max_tokens":31}"#, status: .badRequest, param: "max_tokens",
                              code: "context_length_exceeded", uri: "/v1/completions")
    }

    func testAPIKeyRequiredOnV1Routes() async throws {
        let h = Harness(apiKey: "sekrit") { _ in .reply(bytes("ok") + [Marker.return]) }
        try await h.app.test(.router) { client in
            let body = "{" + Self.user + "}"
            for headers: HTTPFields in [jsonHeaders, [.authorization: "Bearer wrong!"], [.authorization: "Bearer sekri"],
                                        [.authorization: "Bearer sekrit2"], [.authorization: "sekrit"]] {
                let r = try await client.post("/v1/chat/completions", body, headers: headers)
                XCTAssertEqual(r.status, .unauthorized)
                XCTAssertEqual(errorObject(r.body)["code"] as? String, "invalid_api_key")
            }
            let models = try await client.execute(uri: "/v1/models", method: .get)
            XCTAssertEqual(models.status, .unauthorized)
            let ok = try await client.post("/v1/chat/completions", body, headers: [.authorization: "Bearer sekrit"])
            XCTAssertEqual(ok.status, .ok)
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok, "/health stays open for load balancers")
        }
        XCTAssertEqual(h.engine.submitCount, 1)
    }

    func testConstantTimeCompare() {
        XCTAssertTrue(constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        XCTAssertFalse(constantTimeEquals(Array("abd".utf8), Array("abc".utf8)))
        XCTAssertFalse(constantTimeEquals(Array("ab".utf8), Array("abc".utf8)))
        XCTAssertFalse(constantTimeEquals(Array("abcd".utf8), Array("abc".utf8)))
        XCTAssertFalse(constantTimeEquals([], []), "an empty key never matches")
    }
}
