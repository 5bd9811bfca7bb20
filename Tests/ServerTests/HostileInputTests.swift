// Hostile and malformed bodies through the real chat format: every one gets a 4xx with an OpenAI error
// object (never a 500, never a crash), and the server answers a good request afterwards.
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Tokenizer
import XCTest

final class HostileInputTests: XCTestCase {
    func testMalformedBodiesGet4xxAndTheServerKeepsServing() async throws {
        let format = HarmonyChatFormat(tokenizer: HarmonyFormatTests.tokenizer, date: { nil })
        let h = Harness(maxContext: 4096, maxBodyBytes: 64 * 1024, format: format) { _ in .reply(bytes("ok")) }
        let user = #""messages":[{"role":"user","content":"hi"}]"#
        var bodies: [[UInt8]] = [
            [], Array("null".utf8), Array("[]".utf8), Array("\"text\"".utf8), Array("1e999".utf8), Array("{".utf8),
            Array(#"{"messages":null}"#.utf8), Array(#"{"messages":[null]}"#.utf8), Array(#"{"messages":{}}"#.utf8),
            Array(#"{"messages":[{"content":"no role"}]}"#.utf8),
            Array(#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#.utf8),
            Array(#"{"messages":[{"role":"tool","content":"orphan result"}]}"#.utf8),
            Array(("{" + user + #","max_tokens":1e300}"#).utf8),
            Array(("{" + user + #","max_tokens":9223372036854775808}"#).utf8),
            Array(("{" + user + #","max_tokens":2.5}"#).utf8),
            Array(("{" + user + #","temperature":"hot"}"#).utf8),
            Array(("{" + user + #","temperature":-1}"#).utf8),
            Array(("{" + user + #","seed":1.5}"#).utf8),
            Array(("{" + user + #","stop":[1]}"#).utf8),
            Array(("{" + user + #","stop":["a","b","c","d","e"]}"#).utf8),
            Array(("{" + user + #","stream":"yes"}"#).utf8),
            Array(("{" + user + #","n":0}"#).utf8),
            Array(("{" + user + #","tools":[{"type":"function"}]}"#).utf8),
            Array(("{" + user + #","tool_choice":5}"#).utf8),
            Array(("{" + user + #","reasoning_effort":"extreme"}"#).utf8),
            Array(("{" + user + #","model":7}"#).utf8),
            Array(String(repeating: "[", count: 100_000).utf8),                 // nesting past the parser's limit
            [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D],                  // invalid UTF-8 in a key
            Array(#"{"messages":[]}"#.utf8),
        ]
        bodies.append(Array(#"{"messages":[{"role":"user","content":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 70_000)
                      + Array(#""}]}"#.utf8))                                   // over the body limit
        try await h.app.test(.router) { client in
            for body in bodies {
                let label = String(decoding: body.prefix(80), as: UTF8.self)
                let r = try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders,
                                                 body: ByteBuffer(bytes: body))
                XCTAssertTrue((400 ..< 500).contains(r.status.code), "\(r.status) for \(label): \(String(buffer: r.body))")
                _ = errorObject(r.body)
            }
            let ok = try await client.post("/v1/chat/completions", "{" + user + "}")
            XCTAssertEqual(ok.status, .ok)
        }
    }
}
