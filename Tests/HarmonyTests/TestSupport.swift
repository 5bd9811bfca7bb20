// Test support: fixture loading and a vocabulary-backed token decoder for the stream parser tests.
import Foundation
import XCTest
@testable import Harmony

enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let harmonyDir = repoRoot.appendingPathComponent("Tests/Fixtures/harmony")

    static func json(_ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: harmonyDir.appendingPathComponent(name))
        return try JSONParser.parse(bytes: Array(data))
    }
}

/// Token id → bytes from the o200k_base.tiktoken file in the repo, plus the harmony special tokens.
final class TestVocabulary: TokenBytesDecoder, @unchecked Sendable {
    static let shared = TestVocabulary()
    private var bytesByID: [[UInt8]] = []

    private init() {
        let url = Fixtures.repoRoot.appendingPathComponent("Sources/EmbeddedData/data/o200k_base.tiktoken")
        guard let data = try? Data(contentsOf: url) else { return }
        var table = [[UInt8]](repeating: [], count: 199_998)
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")),
                  let raw = Data(base64Encoded: Data(line[line.startIndex..<space])),
                  let rank = Int(String(decoding: line[(space + 1)...], as: UTF8.self)),
                  rank < table.count else { continue }
            table[rank] = Array(raw)
        }
        bytesByID = table
    }

    var isLoaded: Bool { !bytesByID.isEmpty }

    /// Byte value → id of the token made of that single byte.
    private(set) lazy var singleByteIDs: [UInt8: UInt32] = {
        var m: [UInt8: UInt32] = [:]
        for (id, b) in bytesByID.enumerated() where b.count == 1 { m[b[0]] = UInt32(id) }
        return m
    }()

    func tokenBytes(_ id: UInt32) -> [UInt8]? {
        if let s = HarmonySpecialToken(rawValue: id) { return Array(s.text.utf8) }
        if id < bytesByID.count { return bytesByID[Int(id)] }
        if id < 201_088 { return Array("<|reserved_\(id)|>".utf8) }
        return nil
    }
}
