// Spec §5.4/§5.5 facts: the harmony test vector, known ordinary ids, the special-token table, and
// pre-tokenizer splits the spec calls out.
import Foundation
import Tokenizer
import XCTest

final class SpecTests: XCTestCase {
    static let vector = #"<|channel|>analysis<|message|>User asks: "What is 2 + 2?" Simple arithmetic. Provide answer.<|end|><|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>"#
    static let vectorIDs: [UInt32] = [200005, 35644, 200008, 1844, 31064, 25, 392, 4827, 382, 220, 17, 659, 220, 17,
                                      16842, 12295, 81645, 13, 51441, 6052, 13, 200007, 200006, 173781, 200005, 17196,
                                      200008, 17, 659, 220, 17, 314, 220, 19, 13, 200002]

    func testHarmonyTestVector() throws {
        let tok = try O200kTokenizer.harmony()
        XCTAssertEqual(try tok.encode(Self.vector, allowedSpecial: .all), Self.vectorIDs)
        XCTAssertEqual(tok.decode(Self.vectorIDs), Self.vector)
    }

    func testKnownOrdinaryIDs() throws {
        let tok = try O200kTokenizer.harmony()
        XCTAssertEqual(tok.encodeOrdinary("assistant"), [173781])
        XCTAssertEqual(tok.encodeOrdinary("analysis"), [35644])
        XCTAssertEqual(tok.encodeOrdinary("final"), [17196])
        XCTAssertEqual(tok.encodeOrdinary(" to"), [316])
        XCTAssertEqual(tok.encodeOrdinary("="), [28])
        XCTAssertEqual(tok.encodeOrdinary(" code"), [3490])
        XCTAssertEqual(tok.encodeOrdinary(" "), [220])
        XCTAssertEqual(tok.ordinaryTokenCount, 199_998)
        XCTAssertEqual(tok.vocabularySize, 201_088)
    }

    func testSpecialTokenTableMatchesTiktoken() throws {
        let tok = try O200kTokenizer.harmony()
        let expected = try XCTUnwrap(Fixtures.json("special_tokens.json") as? [String: Int])
        XCTAssertEqual(expected.count, 1091)
        XCTAssertEqual(tok.specialTokens.idsByName.count, expected.count)
        for (name, id) in expected { XCTAssertEqual(tok.specialTokenID(name), UInt32(id), name) }
        XCTAssertEqual(tok.specialTokenID("<|start|>"), 200006)
        XCTAssertEqual(tok.specialTokenID("<|reserved_201088|>"), nil)
        XCTAssertEqual(tok.specialTokenID("hello"), nil)
    }

    func testEndOfPromptHasTwoNames() throws {
        let tok = try O200kTokenizer.harmony()
        XCTAssertEqual(tok.decode([200018]), "<|endofprompt|>")
        XCTAssertEqual(Array(tok.tokenBytes(200018)), Array("<|endofprompt|>".utf8))
        XCTAssertEqual(try tok.encode("<|endofprompt|><|reserved_200018|>", allowedSpecial: .all), [200018, 200018])
        XCTAssertEqual(try tok.encode("<|reserved_200018|>", allowedSpecial: ["<|reserved_200018|>"]), [200018])
        let names: Set<String> = ["<|endofprompt|>"]
        XCTAssertEqual(try tok.encode("<|endofprompt|>", allowedSpecial: names), [200018])
    }

    func testSpecialsAreOrdinaryTextUnlessAllowed() throws {
        let tok = try O200kTokenizer.harmony()
        let text = "<|start|>user<|message|>hi<|end|>"
        let ordinary = tok.encodeOrdinary(text)
        XCTAssertFalse(ordinary.contains { $0 >= 199_998 })
        XCTAssertEqual(try tok.encode(text), ordinary)
        XCTAssertEqual(try tok.encode(text, allowedSpecial: .all).first, 200006)
        // Only the allowed one is special.
        let some = try tok.encode(text, allowedSpecial: ["<|end|>"])
        XCTAssertEqual(some.last, 200007)
        XCTAssertEqual(some.filter { $0 >= 199_998 }, [200007])
        // Ids stop at 201087: <|reserved_201088|> is ordinary text even with everything allowed.
        XCTAssertFalse(try tok.encode("<|reserved_201088|>", allowedSpecial: .all).contains { $0 >= 199_998 })
    }

    func testUnknownAllowedSpecialThrows() throws {
        let tok = try O200kTokenizer.harmony()
        XCTAssertThrowsError(try tok.encode("x", allowedSpecial: ["<|nope|>"])) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownSpecialToken("<|nope|>"))
            XCTAssertEqual("\(error)", "'<|nope|>' is not a special token of this tokenizer")
        }
    }

    func testPreTokenizerSplits() throws {
        let tok = try O200kTokenizer.harmony()
        XCTAssertEqual(tok.pieces(" 2"), [" ", "2"])
        XCTAssertEqual(tok.pieces("12345"), ["123", "45"])
        XCTAssertEqual(tok.pieces("hello   world"), ["hello", "  ", " world"])
        XCTAssertEqual(tok.pieces("a  \n\n  b"), ["a", "  \n\n", " ", " b"])
        XCTAssertEqual(tok.pieces("don't STOP'LL"), ["don't", " STOP'LL"])
        XCTAssertEqual(tok.pieces("HTTPServer"), ["HTTPServer"])
        XCTAssertEqual(tok.pieces("x/\n"), ["x", "/\n"])
        XCTAssertEqual(tok.pieces("trailing  "), ["trailing", "  "])
        XCTAssertEqual(tok.pieces("it'ſ"), ["it'ſ"])
    }

    func testHarmonyIsShared() throws {
        XCTAssertTrue(try O200kTokenizer.harmony() === O200kTokenizer.harmony())
    }
}
