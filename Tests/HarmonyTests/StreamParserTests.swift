// Stream parser: completions rendered by openai-harmony are recovered message for message; deltas
// hold back split UTF-8; malformed output gives `.malformed` events and parsing goes on.
import XCTest
@testable import Harmony
import Tokenizer

final class StreamParserTests: XCTestCase {
    var tok: O200kTokenizer!

    override func setUpWithError() throws {
        tok = try TestTokenizer.harmony()
    }

    func testFixtureCompletionsRecoverHarmonyMessages() throws {
        let root = try Fixtures.json("parse_cases.json")
        let cases = root["cases"]?.arrayValue ?? []
        XCTAssertGreaterThanOrEqual(cases.count, 8)
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let tokens = (c["tokens"]?.arrayValue ?? []).compactMap { $0.numberValue?.intValue }.map { UInt32($0) }
            var parser = HarmonyStreamParser(tokenizer: tok)
            var events = parser.process(tokens)
            events += parser.finish()
            let expected = c["messages"]?.arrayValue ?? []
            XCTAssertEqual(parser.messages.count, expected.count, name)
            for (m, e) in zip(parser.messages, expected) {
                XCTAssertEqual(m.header.role.rawValue, e["role"]?.stringValue, name)
                XCTAssertEqual(m.header.name, e["name"]?.stringValue, name)
                XCTAssertEqual(m.header.channel, e["channel"]?.stringValue, name)
                XCTAssertEqual(m.header.recipient, e["recipient"]?.stringValue, name)
                XCTAssertEqual(m.header.contentType, e["content_type"]?.stringValue, name)
                XCTAssertEqual(m.text, e["text"]?.stringValue, name)
            }
            XCTAssertFalse(events.contains { if case .malformed = $0 { return true }; return false }, name)
            // Deltas add up to the message texts.
            let deltas = events.compactMap { e -> String? in if case .textDelta(let t, _, _) = e { return t }; return nil }
            XCTAssertEqual(deltas.joined(), parser.messages.map(\.text).joined(), name)
            XCTAssertTrue(deltas.allSatisfy { !$0.contains("\u{FFFD}") }, name)
            // One turn end per <|return|> / <|call|>, and the last event is one.
            XCTAssertEqual(events.filter { if case .turnEnd = $0 { return true }; return false }.count,
                           tokens.filter { $0 == 200002 || $0 == 200012 }.count, name)
            if case .turnEnd? = events.last {} else { XCTFail("\(name): last event is not a turn end") }
        }
    }

    func testEventSequenceForToolCall() throws {
        // <|channel|>commentary to=functions.f <|constrain|>json<|message|>{"a":1}<|call|>
        let ids = tokens("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\":1}<|call|>")
        var parser = HarmonyStreamParser(tokenizer: tok)
        let events = parser.process(ids)
        let header = HarmonyHeader(role: .assistant, channel: "commentary", recipient: "functions.f", contentType: "<|constrain|>json")
        XCTAssertEqual(events.first, .messageStart(header))
        let call = HarmonyToolCall(recipient: "functions.f", arguments: "{\"a\":1}", channel: "commentary", contentType: "<|constrain|>json")
        XCTAssertEqual(Array(events.suffix(3)), [
            .messageEnd(HarmonyParsedMessage(header: header, text: "{\"a\":1}"), .call), .toolCall(call), .turnEnd(.call),
        ])
        XCTAssertEqual(call.functionName, "f")
        XCTAssertEqual(parser.toolCalls, [call])
    }

    func testCompletionRoutesChannels() {
        var parser = HarmonyStreamParser(tokenizer: tok)
        let events = parser.process(tokens(
            "<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
            + "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{\"c\":\"Oslo\"}<|call|>"))
        let done = HarmonyCompletion(events: events)
        XCTAssertEqual(done.reasoning, "Think.")
        XCTAssertEqual(done.preamble, "Checking.")
        XCTAssertEqual(done.content, "")
        XCTAssertEqual(done.toolCalls.map(\.functionName), ["get_weather"])
        XCTAssertEqual(done.toolCalls.first?.arguments, "{\"c\":\"Oslo\"}")
        XCTAssertEqual(done.finishReason, .toolCalls)

        var p2 = HarmonyStreamParser(tokenizer: tok)
        var e2 = p2.process(tokens("<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final<|message|>The answer"))
        XCTAssertEqual(HarmonyCompletion(events: e2).finishReason, .length)
        e2 += p2.process(tokens(" is 4.<|return|>"))
        let c2 = HarmonyCompletion(events: e2)
        XCTAssertEqual(c2.content, "The answer is 4.")
        XCTAssertEqual(c2.reasoning, "a")
        XCTAssertEqual(c2.finishReason, .stop)
    }

    /// Arbitrary id sequences never trap; every event sequence stays well-formed.
    func testRandomTokensNeverCrash() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let specials = HarmonySpecialToken.allCases.map(\.id) + [199_999, 200_018, 201_087, 201_088, 4_000_000_000]
        for _ in 0..<200 {
            var parser = HarmonyStreamParser(tokenizer: tok, role: next() % 2 == 0 ? .assistant : nil)
            var events: [HarmonyStreamEvent] = []
            for _ in 0..<64 {
                let r = next()
                let id = r % 3 == 0 ? specials[Int(r / 3) % specials.count] : UInt32((r / 3) % 199_998)
                events += parser.process(UInt32(truncatingIfNeeded: id))
            }
            events += parser.finish()
            let starts = events.filter { if case .messageStart = $0 { return true }; return false }.count
            let ends = events.filter { if case .messageEnd = $0 { return true }; return false }.count
            XCTAssertEqual(starts, ends)
            XCTAssertEqual(parser.messages.count, ends)
        }
    }

    func testUTF8SplitAcrossTokensIsHeldBack() {
        // "é" = C3 A9 sent as two single-byte tokens.
        let byte = TestTokenizer.singleByteIDs(tok)
        var parser = HarmonyStreamParser(tokenizer: tok, role: .assistant)
        XCTAssertEqual(parser.process([200005] + tok.encodeOrdinary("final") + [200008]).count, 1)
        XCTAssertEqual(parser.process(byte[0xC3]!), [])
        XCTAssertEqual(parser.process(byte[0xA9]!), [.textDelta("é", channel: "final", recipient: nil)])
        XCTAssertEqual(parser.process(byte[0xF0]!), [])
        XCTAssertEqual(parser.process(byte[0x9F]!), [])
        // Stream ends mid-character: the held bytes come out as one U+FFFD.
        let end = parser.finish()
        XCTAssertEqual(end.first, .textDelta("\u{FFFD}", channel: "final", recipient: nil))
        XCTAssertEqual(parser.messages.last?.text, "é\u{FFFD}")
    }

    func testInvalidUTF8InContentBecomesReplacementCharacters() {
        let byte = TestTokenizer.singleByteIDs(tok)
        var parser = HarmonyStreamParser(tokenizer: tok, role: .assistant)
        _ = parser.process([200005] + tok.encodeOrdinary("final") + [200008])
        let ev = parser.process([byte[0x61]!, byte[0xC0]!, byte[0xAF]!, byte[0xE4]!, byte[0xB8]!, byte[0x61]!, 200002])
        XCTAssertEqual(parser.messages.last?.text, "a\u{FFFD}\u{FFFD}\u{FFFD}a")
        XCTAssertEqual(ev.last, .turnEnd(.return))
    }

    func testMalformedHeaders() {
        // Unknown role with no recipient.
        var p1 = HarmonyStreamParser(tokenizer: tok, role: nil)
        let e1 = p1.process(tokens("<|start|>wizard<|message|>hello<|end|>"))
        XCTAssertEqual(e1.first, .malformed(reason: "unknown role \"wizard\" in message header", text: "wizard"))
        XCTAssertEqual(p1.messages, [HarmonyParsedMessage(header: HarmonyHeader(role: .assistant), text: "hello")])

        // Header cut short by a stop token.
        var p2 = HarmonyStreamParser(tokenizer: tok)
        let e2 = p2.process(tokens("<|channel|>final<|return|>"))
        XCTAssertEqual(e2, [.malformed(reason: "message header ended by <|return|> before <|message|>", text: "<|channel|>final"),
                            .turnEnd(.return)])

        // Channel marker with no value, then a normal message.
        var p3 = HarmonyStreamParser(tokenizer: tok)
        let e3 = p3.process(tokens("<|channel|><|message|>x<|end|><|start|>assistant<|channel|>final<|message|>ok<|return|>"))
        XCTAssertEqual(e3.first, .malformed(reason: "channel marker present but no channel value in header \"<|channel|>\"", text: "<|channel|>"))
        XCTAssertEqual(p3.messages.last, HarmonyParsedMessage(header: HarmonyHeader(role: .assistant, channel: "final"), text: "ok"))

        // Junk between messages is reported once; a missing <|end|> is reported at the next <|start|>.
        var p4 = HarmonyStreamParser(tokenizer: tok)
        var e4 = p4.process(tokens("<|channel|>analysis<|message|>a<|end|>junk text here"))
        e4 += p4.process(tokens("<|start|>assistant<|channel|>final<|message|>b<|start|>assistant<|channel|>final<|message|>c<|return|>"))
        XCTAssertEqual(e4.filter { if case .malformed = $0 { return true }; return false }.count, 2)
        XCTAssertEqual(p4.messages.map(\.text), ["a", "b", "c"])

        // Extra words in a header and an id outside the vocabulary.
        var p5 = HarmonyStreamParser(tokenizer: tok)
        let e5 = p5.process(tokens("<|channel|>final extra to=x json<|message|>") + [999_999] + tokens("ok<|return|>"))
        XCTAssertTrue(e5.contains(.malformed(reason: "unexpected text in message header: \"extra\"", text: "<|channel|>final extra to=x json")))
        XCTAssertTrue(e5.contains(.malformed(reason: "token id 999999 is outside the vocabulary", text: "")))
        XCTAssertEqual(p5.messages.last?.text, "ok")
        XCTAssertEqual(p5.messages.last?.header.recipient, "x")

        // A header that never ends.
        var p6 = HarmonyStreamParser(tokenizer: tok)
        let e6 = p6.process([UInt32](repeating: 220, count: HarmonyStreamParser.maxHeaderTokens + 1))
        XCTAssertEqual(e6.count, 2)
        XCTAssertEqual(p6.finish().count, 1)  // open message closed as interrupted
    }

    func testToolAuthorAndFinishInsideHeader() {
        var p = HarmonyStreamParser(tokenizer: tok, role: nil)
        _ = p.process(tokens("<|start|>functions.f to=assistant<|channel|>commentary<|message|>42<|end|>"))
        XCTAssertEqual(p.messages.first?.header, HarmonyHeader(role: .tool, name: "functions.f", channel: "commentary", recipient: "assistant"))
        _ = p.process(tokens("<|start|>assistant"))
        XCTAssertEqual(p.finish(), [.malformed(reason: "stream ended inside a message header", text: "assistant")])
    }

    /// Text with special tokens allowed, encoded by the real tokenizer.
    private func tokens(_ text: String) -> [UInt32] {
        (try? tok.encode(text, allowedSpecial: .all)) ?? []
    }
}
