// Bad vocabulary files: each problem gives a typed error naming the file and line, never a crash.
import Foundation
import Tokenizer
import XCTest

final class VocabularyErrorTests: XCTestCase {
    /// A valid .tiktoken text with all 256 bytes as ranks 0..255 plus "ab" = 256.
    func validVocabulary() -> String {
        var lines = (0..<256).map { "\(Data([UInt8($0)]).base64EncodedString()) \($0)" }
        lines.append("\(Data("ab".utf8).base64EncodedString()) 256")
        return lines.joined(separator: "\n") + "\n"
    }

    func load(_ text: String) throws -> O200kTokenizer {
        try O200kTokenizer(tiktokenFile: Fixtures.temporaryFile(text, name: "v.tiktoken"), specialTokens: .none)
    }

    func expectError(_ text: String, _ check: (TokenizerError) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(text), file: file, line: line) { error in
            guard let e = error as? TokenizerError else { return XCTFail("not a TokenizerError: \(error)", file: file, line: line) }
            check(e)
        }
    }

    func testValidSmallVocabularyLoads() throws {
        let tok = try load(validVocabulary())
        XCTAssertEqual(tok.ordinaryTokenCount, 257)
        XCTAssertEqual(tok.encodeOrdinary("ab"), [256])
        XCTAssertEqual(tok.encodeOrdinary("abc"), [256, 99])
    }

    func testMissingFile() {
        XCTAssertThrowsError(try O200kTokenizer(tiktokenFile: "/nonexistent/o200k.tiktoken")) { error in
            XCTAssertEqual(error as? TokenizerError, .vocabularyUnreadable(path: "/nonexistent/o200k.tiktoken", reason: "no such file"))
            XCTAssertEqual("\(error)", "cannot read vocabulary file /nonexistent/o200k.tiktoken: no such file")
        }
    }

    func testEmptyFile() {
        expectError("") { e in
            guard case .truncatedVocabulary(_, _, let problem) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(problem, "the file holds no entries")
        }
    }

    func testTruncatedLastLine() {
        var text = validVocabulary()
        text += "YWJj" // "abc" with no rank and no newline: the file was cut mid-line
        expectError(text) { e in
            guard case .truncatedVocabulary(_, let line, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(line, 258)
        }
    }

    func testTruncatedInsideBase64() {
        let text = String(validVocabulary().prefix(9)) // "AA== 0\nAQ": cut inside line 2's base64
        expectError(text) { e in
            guard case .truncatedVocabulary(_, let line, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(line, 2)
        }
    }

    func testBadBase64() {
        var lines = validVocabulary().split(separator: "\n").map(String.init)
        lines[10] = "Y*Jj 10"
        expectError(lines.joined(separator: "\n") + "\n") { e in
            XCTAssertTrue("\(e)".contains(":11: malformed vocabulary line: invalid base64 character '*' at column 2"), "\(e)")
        }
        lines[10] = "YWJ 10"
        expectError(lines.joined(separator: "\n") + "\n") { e in
            XCTAssertTrue("\(e)".contains(":11: malformed vocabulary line: base64 token has 3 characters"), "\(e)")
        }
    }

    func testBadRank() {
        var lines = validVocabulary().split(separator: "\n").map(String.init)
        lines[4] = "BA== four"
        expectError(lines.joined(separator: "\n") + "\n") { e in
            guard case .malformedVocabularyLine(_, let line, let problem) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(line, 5)
            XCTAssertEqual(problem, "rank 'four' is not a non-negative decimal integer")
        }
        lines[4] = "BA== -4"
        expectError(lines.joined(separator: "\n") + "\n") { e in
            guard case .malformedVocabularyLine(_, 5, _) = e else { return XCTFail("\(e)") }
        }
        lines[4] = "BA=="
        expectError(lines.joined(separator: "\n") + "\n") { e in
            guard case .malformedVocabularyLine(_, 5, "no space between token and rank") = e else { return XCTFail("\(e)") }
        }
        lines[4] = "BA== 99999999999"
        expectError(lines.joined(separator: "\n") + "\n") { e in
            guard case .malformedVocabularyLine(_, 5, "rank is too large") = e else { return XCTFail("\(e)") }
        }
    }

    func testDuplicateRank() {
        var text = validVocabulary()
        text += "\(Data("xyz".utf8).base64EncodedString()) 256\n"
        expectError(text) { e in
            guard case .duplicateRank(_, 258, 256) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".hasSuffix(".tiktoken:258: rank 256 appears twice in the vocabulary"), "\(e)")
        }
    }

    func testDuplicateToken() {
        var text = validVocabulary()
        text += "\(Data("ab".utf8).base64EncodedString()) 257\n"
        expectError(text) { e in
            guard case .duplicateToken(_, 258, 257) = e else { return XCTFail("\(e)") }
        }
    }

    func testMissingRank() {
        var text = validVocabulary()
        text += "\(Data("xyz".utf8).base64EncodedString()) 300\n"
        expectError(text) { e in
            guard case .nonContiguousRanks(_, 258, 257) = e else { return XCTFail("\(e)") }
        }
    }

    func testMissingSingleByte() {
        var lines = validVocabulary().split(separator: "\n").map(String.init)
        lines[65] = "\(Data("zz".utf8).base64EncodedString()) 65" // byte 'A' (0x41) no longer a token
        expectError(lines.joined(separator: "\n") + "\n") { e in
            guard case .missingByteToken(_, 0x41) = e else { return XCTFail("\(e)") }
        }
    }

    func testBlankLinesAndCRLFAreAccepted() throws {
        let text = validVocabulary().replacingOccurrences(of: "\n", with: "\r\n") + "\r\n\n"
        XCTAssertEqual(try load(text).ordinaryTokenCount, 257)
    }

    func testRanksInAnyOrder() throws {
        let lines = validVocabulary().split(separator: "\n").reversed()
        let tok = try load(lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(tok.encodeOrdinary("ab"), [256])
        XCTAssertEqual(tok.tokenBytes(97), [97])
    }

    func testMalformedTokenizerJSON() throws {
        let cases: [(String, String)] = [
            ("{not json", "not valid JSON"),
            ("[1, 2]", "the top level is not a JSON object"),
            ("{\"model\": {\"type\": \"BPE\"}}", "no \"model.vocab\" object"),
            ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}}", "model.vocab[\"a\"] is not a non-negative integer id"),
            ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}}}", "two model.vocab keys have id 0"),
            ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2}}}", "id 1 is missing"),
        ]
        for (json, expected) in cases {
            let path = try Fixtures.temporaryFile(json, name: "tokenizer.json")
            XCTAssertThrowsError(try O200kTokenizer(huggingFaceTokenizerJSON: path)) { error in
                guard case .malformedTokenizerJSON(let p, let problem)? = error as? TokenizerError else { return XCTFail("\(error)") }
                XCTAssertEqual(p, path)
                XCTAssertTrue(problem.contains(expected), "\(problem) should contain \(expected)")
            }
        }
        let unsupported = try Fixtures.temporaryFile("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", name: "tokenizer.json")
        XCTAssertThrowsError(try O200kTokenizer(huggingFaceTokenizerJSON: unsupported)) { error in
            guard case .unsupportedTokenizerJSON? = error as? TokenizerError else { return XCTFail("\(error)") }
        }
        let badKey = try Fixtures.temporaryFile("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a b\": 0}}}", name: "tokenizer.json")
        XCTAssertThrowsError(try O200kTokenizer(huggingFaceTokenizerJSON: badKey)) { error in
            XCTAssertTrue("\(error)".contains("U+20, which is not in the GPT-2 byte-level alphabet"), "\(error)")
        }
        XCTAssertThrowsError(try O200kTokenizer(huggingFaceTokenizerJSON: "/nonexistent/tokenizer.json")) { error in
            XCTAssertEqual(error as? TokenizerError, .vocabularyUnreadable(path: "/nonexistent/tokenizer.json", reason: "no such file"))
        }
    }

    func testTruncatedTokenizerJSONNamesThePosition() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("subset_tokenizer.json")))
        let path = try Fixtures.temporaryFile([UInt8](full.prefix(full.count / 2)), name: "tokenizer.json")
        XCTAssertThrowsError(try O200kTokenizer(huggingFaceTokenizerJSON: path)) { error in
            guard case .malformedTokenizerJSON(_, let problem)? = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertTrue(problem.hasPrefix("not valid JSON at line "), problem)
        }
    }

    func testTokenizerJSONWithEscapedKeys() throws {
        // All 256 byte-level keys written as \uXXXX escapes, in reverse id order.
        let keys = (0..<256).reversed().map { b -> String in
            let scalar = HFAlphabet.scalar(UInt8(b))
            return "\"\\u\(String(format: "%04x", scalar))\": \(b)"
        }
        let json = "{\"model\": {\"vocab\": {\(keys.joined(separator: ", "))}, \"type\": \"BPE\", \"merges\": [[\"a\", \"b\"], \"c d\"]}, \"added_tokens\": null}"
        let tok = try O200kTokenizer(huggingFaceTokenizerJSON: Fixtures.temporaryFile(json, name: "tokenizer.json"), specialTokens: .none)
        XCTAssertEqual(tok.ordinaryTokenCount, 256)
        // A UTF-8 byte-order mark before the JSON is accepted.
        let withBOM = try O200kTokenizer(huggingFaceTokenizerJSON: Fixtures.temporaryFile([0xEF, 0xBB, 0xBF] + Array(json.utf8), name: "tokenizer.json"), specialTokens: .none)
        XCTAssertEqual(withBOM.ordinaryTokenCount, 256)
        for b in 0..<256 { XCTAssertEqual(tok.tokenBytes(UInt32(b)), [UInt8(b)]) }
        XCTAssertEqual(tok.encodeOrdinary("hi!"), [104, 105, 33])
    }
}

/// GPT-2 bytes_to_unicode, written out independently of the module's table.
enum HFAlphabet {
    static func scalar(_ b: UInt8) -> UInt32 {
        let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
        if printable { return UInt32(b) }
        let before = (0..<Int(b)).filter { !((33...126).contains($0) || (161...172).contains($0) || (174...255).contains($0)) }.count
        return 256 + UInt32(before)
    }
}
