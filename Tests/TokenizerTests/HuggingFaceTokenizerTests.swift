// tokenizer.json loading: the TikTokenConverter-made subset fixture gives the same table and ids as the
// matching .tiktoken subset, and a full tokenizer.json written from the embedded o200k ranks parses
// back to exactly the same token bytes for every id.
import Foundation
@testable import Tokenizer
import XCTest

final class HuggingFaceTokenizerTests: XCTestCase {
    func testSubsetConvertedByTransformersMatchesTiktokenSubset() throws {
        let fromJSON = try O200kTokenizer(huggingFaceTokenizerJSON: Fixtures.path("subset_tokenizer.json"), specialTokens: .none)
        let fromTiktoken = try O200kTokenizer(tiktokenFile: Fixtures.path("subset.tiktoken"), specialTokens: .none)
        XCTAssertEqual(fromJSON.ordinaryTokenCount, 1000)
        XCTAssertEqual(fromTiktoken.ordinaryTokenCount, 1000)
        for id in 0..<UInt32(1000) { XCTAssertEqual(fromJSON.tokenBytes(id), fromTiktoken.tokenBytes(id)) }
        // added_tokens become special tokens.
        XCTAssertEqual(fromJSON.specialTokenID("<|endoftext|>"), 1000)
        XCTAssertEqual(fromJSON.specialTokenID("<|start|>"), 1001)
        XCTAssertEqual(try fromJSON.encode("a<|start|>", allowedSpecial: .all).last, 1001)

        let root = try XCTUnwrap(Fixtures.json("subset_tokenizer.json") as? [String: Any])
        let cases = try XCTUnwrap(root["x_test_cases"] as? [[String: Any]])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            let ids = try XCTUnwrap(c["ids"] as? [Int]).map { UInt32($0) }
            XCTAssertEqual(fromJSON.encodeOrdinary(text), ids, text)
            XCTAssertEqual(fromTiktoken.encodeOrdinary(text), ids, text)
        }
    }

    func testByteLevelAlphabet() {
        XCTAssertEqual(HuggingFaceTokenizerJSON.byteLevelString([0x20]), "Ġ")
        XCTAssertEqual(HuggingFaceTokenizerJSON.byteLevelString([0x0A]), "Ċ")
        XCTAssertEqual(HuggingFaceTokenizerJSON.byteLevelString(Array("hi!".utf8)), "hi!")
        XCTAssertEqual(Set(HuggingFaceTokenizerJSON.byteToScalar).count, 256)
    }

    /// Writes the full o200k vocabulary as a tokenizer.json in the documented structure, parses it back.
    func testFullVocabularyRoundTripsThroughTokenizerJSON() throws {
        let harmony = try O200kTokenizer.harmony()
        var vocab = [String: Int]()
        vocab.reserveCapacity(harmony.ordinaryTokenCount)
        for id in 0..<harmony.ordinaryTokenCount {
            vocab[HuggingFaceTokenizerJSON.byteLevelString(harmony.tokenBytes(UInt32(id)))] = id
        }
        let added: [[String: Any]] = (199_998...200_018).map { id in
            ["id": id, "content": harmony.decode([UInt32(id)]), "single_word": false, "lstrip": false,
             "rstrip": false, "normalized": false, "special": true]
        }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": HuggingFaceTokenizerJSON.o200kPattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ]],
            "post_processor": NSNull(), "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": true,
                      "vocab": vocab, "merges": [["Ġ", "t"]]],
        ]
        let data = try JSONSerialization.data(withJSONObject: json)
        let path = try Fixtures.temporaryFile([UInt8](data), name: "tokenizer.json")
        let loaded = try O200kTokenizer(huggingFaceTokenizerJSON: path)
        XCTAssertEqual(loaded.ordinaryTokenCount, harmony.ordinaryTokenCount)
        for id in 0..<UInt32(harmony.vocabularySize) {
            if loaded.tokenBytes(id) != harmony.tokenBytes(id) { return XCTFail("token \(id) differs") }
        }
        XCTAssertEqual(try loaded.encode(SpecTests.vector, allowedSpecial: .all), SpecTests.vectorIDs)
        XCTAssertEqual(loaded.specialTokenID("<|endofprompt|>"), 200018)
    }

    func testVocabularyFileChoosesLoaderByExtension() throws {
        let tok = try O200kTokenizer(vocabularyFile: Fixtures.path("subset_tokenizer.json"), specialTokens: .none)
        XCTAssertEqual(tok.ordinaryTokenCount, 1000)
        let tok2 = try O200kTokenizer(vocabularyFile: Fixtures.path("subset.tiktoken"), specialTokens: .none)
        XCTAssertEqual(tok2.ordinaryTokenCount, 1000)
    }
}
