// Exact-id comparison with tiktoken's o200k_harmony on Tests/Fixtures/tokenizer/encode_cases.json
// (written by tools/make_tokenizer_fixtures.py), plus decode round trips.
import Foundation
import Tokenizer
import XCTest

final class EncodeFixtureTests: XCTestCase {
    struct Case {
        let text: String
        let ids: [UInt32]
        let allowed: AllowedSpecial?
    }

    func loadCases() throws -> [Case] {
        let root = try XCTUnwrap(Fixtures.json("encode_cases.json") as? [String: Any])
        let list = try XCTUnwrap(root["cases"] as? [[String: Any]])
        return try list.map { entry in
            let text = try XCTUnwrap(entry["text"] as? String)
            let ids = try XCTUnwrap(entry["ids"] as? [Int]).map { UInt32($0) }
            var allowed: AllowedSpecial? = nil
            if let a = entry["allowed_special"] {
                if a as? String == "all" { allowed = .all } else { allowed = .only(Set(try XCTUnwrap(a as? [String]))) }
            }
            return Case(text: text, ids: ids, allowed: allowed)
        }
    }

    func testFixtureHasEnoughCases() throws {
        let cases = try loadCases()
        XCTAssertGreaterThanOrEqual(cases.count, 300)
        XCTAssertGreaterThanOrEqual(cases.filter { $0.allowed != nil }.count, 5)
    }

    func testEncodeOrdinaryMatchesTiktoken() throws {
        let tok = try O200kTokenizer.harmony()
        var failures = 0
        for c in try loadCases() where c.allowed == nil {
            let ids = tok.encodeOrdinary(c.text)
            if ids != c.ids {
                failures += 1
                XCTFail("encodeOrdinary(\(c.text.debugDescription)) = \(ids), tiktoken \(c.ids); pieces \(tok.pieces(c.text))")
            }
            // With nothing allowed, encode is encodeOrdinary; specials never appear.
            XCTAssertEqual(try tok.encode(c.text), c.ids)
            XCTAssertFalse(ids.contains { tok.isSpecial($0) })
            if failures > 10 { break }
        }
    }

    func testEncodeWithAllowedSpecialMatchesTiktoken() throws {
        let tok = try O200kTokenizer.harmony()
        for c in try loadCases() {
            guard let allowed = c.allowed else { continue }
            XCTAssertEqual(try tok.encode(c.text, allowedSpecial: allowed), c.ids, c.text.debugDescription)
        }
    }

    func testDecodeRoundTrips() throws {
        let tok = try O200kTokenizer.harmony()
        for c in try loadCases() {
            // 200018 has two names and decodes as <|endofprompt|>.
            let text = c.allowed == nil ? c.text : c.text.replacingOccurrences(of: "<|reserved_200018|>", with: "<|endofprompt|>")
            XCTAssertEqual(tok.decode(c.ids), text, c.text.debugDescription)
            XCTAssertEqual(tok.decodeBytes(c.ids), Array(text.utf8))
            var stream = tok.makeStreamDecoder()
            var streamed = ""
            for id in c.ids { streamed += stream.push(id) }
            streamed += stream.finish()
            XCTAssertEqual(streamed, text, "stream decode of \(c.text.debugDescription)")
        }
    }

    func testUTF8BytesEntryPointMatchesString() throws {
        let tok = try O200kTokenizer.harmony()
        for c in try loadCases().prefix(100) {
            XCTAssertEqual(try tok.encode(utf8: Array(c.text.utf8), allowedSpecial: c.allowed ?? .none), c.ids)
        }
    }

    /// One shared tokenizer used from several threads at once gives the same ids as serial use.
    func testConcurrentEncodingOfSharedTokenizer() throws {
        let tok = try O200kTokenizer.harmony()
        let cases = try loadCases().filter { $0.allowed == nil }
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
        defer { results.deallocate() }
        results.initialize(repeating: false)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var ok = true
            for (i, c) in cases.enumerated() where i % 8 == worker || i % 3 == 0 {
                if tok.encodeOrdinary(c.text) != c.ids || tok.decode(c.ids) != c.text { ok = false }
            }
            results[worker] = ok
        }
        XCTAssertEqual(Array(results), [Bool](repeating: true, count: 8))
    }
}
