// Decoding: lossy replacement per maximal invalid subpart (spec §6.12), token bytes, the streaming
// decoder holding back unfinished UTF-8, and invalid UTF-8 input to encode.
import Foundation
import Tokenizer
import XCTest

final class DecodeTests: XCTestCase {
    /// Ids of single-byte tokens, looked up (not assumed to equal the byte).
    func byteIDs(_ tok: O200kTokenizer, _ bytes: [UInt8]) throws -> [UInt32] {
        try bytes.map { b in
            let ids = try XCTUnwrap((0..<UInt32(256)).first { tok.tokenBytes($0) == [b] } ?? (0..<UInt32(tok.ordinaryTokenCount)).first { tok.tokenBytes($0) == [b] })
            return ids
        }
    }

    func testLossyDecodingPerMaximalSubpart() throws {
        let tok = try O200kTokenizer.harmony()
        XCTAssertEqual(tok.decode(try byteIDs(tok, [0xF0, 0x9F])), "\u{FFFD}")
        XCTAssertEqual(tok.decode(try byteIDs(tok, [0xC0, 0xAF])), "\u{FFFD}\u{FFFD}")
        XCTAssertEqual(tok.decode(try byteIDs(tok, [0xED, 0xA0, 0x80])), "\u{FFFD}\u{FFFD}\u{FFFD}")
        XCTAssertEqual(tok.decode(try byteIDs(tok, [0xE4, 0xB8, 0x61, 0x62, 0x63])), "\u{FFFD}abc")
        XCTAssertEqual(tok.decode(try byteIDs(tok, [0x61, 0xFF, 0x62])), "a\u{FFFD}b")
        XCTAssertEqual(tok.decodeBytes(try byteIDs(tok, [0xF0, 0x9F])), [0xF0, 0x9F])
    }

    func testTokenBytes() throws {
        let tok = try O200kTokenizer.harmony()
        XCTAssertEqual(tok.tokenBytes(220), [0x20])
        XCTAssertEqual(tok.tokenBytes(173781), Array("assistant".utf8))
        XCTAssertEqual(tok.tokenBytes(200006), Array("<|start|>".utf8))
        XCTAssertEqual(tok.tokenBytes(201087), Array("<|reserved_201087|>".utf8))
        XCTAssertEqual(tok.tokenBytes(201088), [0xEF, 0xBF, 0xBD]) // unknown id: U+FFFD
        XCTAssertFalse(tok.isKnown(201088))
        XCTAssertTrue(tok.isKnown(0))
        XCTAssertTrue(tok.isSpecial(199998))
        XCTAssertFalse(tok.isSpecial(199997))
    }

    func testStreamDecoderHoldsBackUnfinishedSequences() throws {
        let tok = try O200kTokenizer.harmony()
        // "😀" = F0 9F 98 80 fed one byte-token at a time.
        let ids = try byteIDs(tok, [0x61, 0xF0, 0x9F, 0x98, 0x80, 0x62])
        var stream = tok.makeStreamDecoder()
        XCTAssertEqual(stream.push(ids[0]), "a")
        XCTAssertEqual(stream.push(ids[1]), "")
        XCTAssertTrue(stream.hasPendingBytes)
        XCTAssertEqual(stream.push(ids[2]), "")
        XCTAssertEqual(stream.push(ids[3]), "")
        XCTAssertEqual(stream.push(ids[4]), "😀")
        XCTAssertFalse(stream.hasPendingBytes)
        XCTAssertEqual(stream.push(ids[5]), "b")
        XCTAssertEqual(stream.finish(), "")
    }

    func testStreamDecoderInvalidAndUnfinishedAtEnd() throws {
        let tok = try O200kTokenizer.harmony()
        var stream = tok.makeStreamDecoder()
        // C0 can never start a sequence: emitted at once as U+FFFD.
        XCTAssertEqual(stream.push(try byteIDs(tok, [0xC0])), "\u{FFFD}")
        // An unfinished sequence interrupted by ASCII: one U+FFFD, then the ASCII.
        XCTAssertEqual(stream.push(try byteIDs(tok, [0xE4, 0xB8])), "")
        XCTAssertEqual(stream.push(try byteIDs(tok, [0x61])), "\u{FFFD}a")
        // Unfinished at the end of the stream: finish() flushes it lossily.
        XCTAssertEqual(stream.push(try byteIDs(tok, [0xF0, 0x9F])), "")
        XCTAssertEqual(stream.finish(), "\u{FFFD}")
        XCTAssertFalse(stream.hasPendingBytes)
    }

    func testStreamDecoderMatchesDecodeOnSplitText() throws {
        let tok = try O200kTokenizer.harmony()
        let text = "日本語 👨‍👩‍👧‍👦 naïve ภาษาไทย 🇺🇸 <|end|>"
        let ids = try tok.encode(text, allowedSpecial: .all)
        var stream = tok.makeStreamDecoder()
        var pieces = [String]()
        for id in ids { pieces.append(stream.push(id)) }
        pieces.append(stream.finish())
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") })
    }

    func testInvalidUTF8InputIsATypedError() throws {
        let tok = try O200kTokenizer.harmony()
        for (bytes, offset) in [([0x61, 0xFF], 1), ([0xC0, 0xAF], 0), ([0x61, 0x62, 0xED, 0xA0, 0x80], 2), ([0xF0, 0x9F], 0)] as [([UInt8], Int)] {
            XCTAssertThrowsError(try tok.encode(utf8: bytes)) { error in
                XCTAssertEqual(error as? TokenizerError, .invalidUTF8(byteOffset: offset))
            }
        }
        XCTAssertEqual(try tok.encode(utf8: Array("héllo".utf8)), tok.encodeOrdinary("héllo"))
    }
}
