// Renderer: fixtures rendered by openai-harmony 0.0.8 (tools/make_harmony_fixtures.py) and the spec's
// worked examples (§6.6, §6.8, §6.9).
import XCTest
@testable import Harmony
import Tokenizer

final class RenderTests: XCTestCase {
    struct RenderCase {
        let name: String
        let request: String
        let date: String?
        let expectedIDs: [UInt32]
        let expectedText: String
    }

    static func renderCases() throws -> [RenderCase] {
        let root = try Fixtures.json("render_cases.json")
        return (root["cases"]?.arrayValue ?? []).map { c in
            RenderCase(
                name: c["name"]?.stringValue ?? "?",
                request: c["request"]?.stringValue ?? "",
                date: c["date"]?.stringValue,
                expectedIDs: (c["expected_ids"]?.arrayValue ?? []).compactMap { $0.numberValue?.intValue }.map { UInt32($0) },
                expectedText: c["expected_text"]?.stringValue ?? "")
        }
    }

    func testFixtureCount() throws {
        XCTAssertGreaterThanOrEqual(try Self.renderCases().count, 30)
    }

    /// Every fixture's pieces, concatenated, equal harmony's rendering decoded to text.
    func testFixturesRenderSameText() throws {
        for c in try Self.renderCases() {
            let req = try ChatRequest.parse(json: c.request)
            let pieces = HarmonyRenderer().piecesForCompletion(req, date: c.date)
            XCTAssertEqual(pieces.renderedText, c.expectedText, c.name)
            XCTAssertEqual(Array(pieces.suffix(2)), [.special(.start), .text("assistant")], c.name)
        }
    }

    /// The exact ids openai-harmony rendered (each text piece tokenized on its own).
    func testFixturesRenderSameIDs() throws {
        let tok = try TestTokenizer.harmony()
        for c in try Self.renderCases() {
            let req = try ChatRequest.parse(json: c.request)
            XCTAssertEqual(HarmonyRenderer().renderForCompletion(req, date: c.date, encoder: tok), c.expectedIDs, c.name)
        }
    }

    /// Special tokens appear exactly where harmony put them (text between them is checked above).
    func testFixturesSpecialTokenPositions() throws {
        for c in try Self.renderCases() {
            let req = try ChatRequest.parse(json: c.request)
            let specials = HarmonyRenderer().piecesForCompletion(req, date: c.date).compactMap { p -> UInt32? in
                if case .special(let t) = p { return t.id }
                return nil
            }
            XCTAssertEqual(specials, c.expectedIDs.filter { $0 >= 199_998 }, c.name)
        }
    }

    // MARK: spec examples

    func testSpecExample1SystemDeveloperUser() throws {
        let req = try ChatRequest.parse(json: """
            {"messages":[{"role":"system","content":"Answer in one short sentence."},
            {"role":"user","content":"What is the capital of France?"}]}
            """)
        let text = HarmonyRenderer().piecesForCompletion(req, date: "2025-06-28").renderedText
        XCTAssertEqual(text, """
            <|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.
            Knowledge cutoff: 2024-06
            Current date: 2025-06-28

            Reasoning: medium

            # Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>\
            <|start|>developer<|message|># Instructions

            Answer in one short sentence.<|end|><|start|>user<|message|>What is the capital of France?<|end|>\
            <|start|>assistant
            """)
    }

    func testSpecExample2ToolCallKeepsAnalysis() throws {
        let req = try ChatRequest.parse(json: #"""
            {"reasoning_effort":"high","messages":[
             {"role":"system","content":"Use a friendly tone."},
             {"role":"user","content":"What is the weather in Tokyo?"},
             {"role":"assistant","reasoning_content":"Need to call get_current_weather.","content":null,
              "tool_calls":[{"id":"c1","type":"function","function":{"name":"get_current_weather","arguments":"{\"location\":\"Tokyo\"}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"{\"temperature\": 20, \"sunny\": true}"}],
             "tools":[{"type":"function","function":{"name":"get_current_weather",
              "description":"Gets the current weather in the provided location.",
              "parameters":{"type":"object","properties":{"location":{"type":"string",
               "description":"The city and state, e.g. San Francisco, CA"}},"required":["location"]}}}]}
            """#)
        let pieces = HarmonyRenderer().piecesForCompletion(req, date: "2025-06-28")
        XCTAssertEqual(pieces.renderedText, """
            <|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.
            Knowledge cutoff: 2024-06
            Current date: 2025-06-28

            Reasoning: high

            # Valid channels: analysis, commentary, final. Channel must be included for every message.
            Calls to these tools must go to the commentary channel: 'functions'.<|end|>\
            <|start|>developer<|message|># Instructions

            Use a friendly tone.

            # Tools

            ## functions

            namespace functions {

            // Gets the current weather in the provided location.
            type get_current_weather = (_: {
            // The city and state, e.g. San Francisco, CA
            location: string,
            }) => any;

            } // namespace functions<|end|><|start|>user<|message|>What is the weather in Tokyo?<|end|>\
            <|start|>assistant<|channel|>analysis<|message|>Need to call get_current_weather.<|end|>\
            <|start|>assistant to=functions.get_current_weather<|channel|>commentary <|constrain|>json<|message|>\
            {"location":"Tokyo"}<|call|><|start|>functions.get_current_weather to=assistant<|channel|>commentary\
            <|message|>{"temperature": 20, "sunny": true}<|end|><|start|>assistant
            """)
        // The tool call's header: " to=..." and " " are their own text pieces, <|constrain|> is one token.
        XCTAssertTrue(pieces.contains(.text(" to=functions.get_current_weather")))
        let constrain = pieces.firstIndex(of: .special(.constrain))
        XCTAssertNotNil(constrain)
        if let i = constrain {
            XCTAssertEqual(pieces[i - 1], .text(" "))
            XCTAssertEqual(pieces[i + 1], .text("json"))
        }
    }

    func testSpecDropRule() {
        let conv = HarmonyConversation([
            HarmonyMessage(.user, "What is 2 + 2?"),
            HarmonyMessage(.assistant, "User asks a simple question.", channel: "analysis"),
            HarmonyMessage(.assistant, "2 + 2 equals 4.", channel: "final"),
            HarmonyMessage(.user, "What about 9 / 2?"),
        ])
        XCTAssertEqual(HarmonyRenderer().piecesForCompletion(conv).renderedText,
                       "<|start|>user<|message|>What is 2 + 2?<|end|><|start|>assistant<|channel|>final<|message|>"
                       + "2 + 2 equals 4.<|end|><|start|>user<|message|>What about 9 / 2?<|end|><|start|>assistant")
        XCTAssertEqual(HarmonyRenderer(autoDropAnalysis: false).pieces(conv).count,
                       HarmonyRenderer().pieces(conv).count + 7)
    }

    func testUserArrayPartsAreSeparatePieces() throws {
        let req = try ChatRequest.parse(json: #"{"messages":[{"role":"user","name":"ann","content":[{"type":"text","text":"Hel"},{"type":"text","text":"lo"}]}]}"#)
        let pieces = HarmonyRenderer().piecesForCompletion(req)
        XCTAssertTrue(pieces.contains(.text(":ann")))
        let msg = pieces.firstIndex(of: .special(.message), after: pieces.firstIndex(of: .text("user"))!)
        XCTAssertEqual(Array(pieces[(msg! + 1)...(msg! + 3)]), [.text("Hel"), .text("lo"), .special(.end)])
    }

    func testDateValidation() {
        XCTAssertTrue(HarmonyDate.isValid("2025-06-28"))
        XCTAssertTrue(HarmonyDate.isValid("2024-02-29"))
        XCTAssertFalse(HarmonyDate.isValid("2025-02-29"))
        XCTAssertFalse(HarmonyDate.isValid("2025-13-01"))
        XCTAssertFalse(HarmonyDate.isValid("2025-6-28"))
        XCTAssertFalse(HarmonyDate.isValid("today"))
    }

    func testStopTokens() {
        XCTAssertEqual(HarmonyRenderer.stopTokens, [200002, 200012])
    }

    func testIDsFromPiecesUseEncoderPerPiece() {
        struct Spy: OrdinaryTextEncoder {
            func encodeOrdinary(_ text: String) -> [UInt32] { [UInt32(text.utf8.count)] }
        }
        let ids = HarmonyRenderer.tokenIDs([.special(.start), .text("user"), .special(.message), .text(""),
                                            .text("ab"), .text("c"), .special(.end)], encoder: Spy())
        XCTAssertEqual(ids, [200006, 4, 200008, 2, 1, 200007])
    }
}

extension Array where Element: Equatable {
    fileprivate func firstIndex(of e: Element, after i: Int) -> Int? {
        self[(i + 1)...].firstIndex(of: e)
    }
}
