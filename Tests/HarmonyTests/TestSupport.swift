// Test support: fixture loading and the real o200k_harmony tokenizer.
import Foundation
import XCTest
@testable import Harmony
import Tokenizer

enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let harmonyDir = repoRoot.appendingPathComponent("Tests/Fixtures/harmony")

    static func json(_ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: harmonyDir.appendingPathComponent(name))
        return try JSONParser.parse(bytes: Array(data))
    }
}

enum TestTokenizer {
    /// o200k_harmony from the vocabulary embedded in the binary.
    static func harmony() throws -> O200kTokenizer { try O200kTokenizer.harmony() }

    /// Byte value → id of the token made of that single byte.
    static func singleByteIDs(_ tok: O200kTokenizer) -> [UInt8: UInt32] {
        var m: [UInt8: UInt32] = [:]
        for id in 0..<UInt32(tok.ordinaryTokenCount) {
            let b = tok.tokenBytes(id)
            if b.count == 1 { m[b[0]] = id; if m.count == 256 { break } }
        }
        return m
    }
}
