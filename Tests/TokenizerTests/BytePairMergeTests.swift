// The heap-based merge used for long pieces gives exactly the quadratic (tiktoken) merge's tokens.
import Foundation
@testable import Tokenizer
import XCTest

final class BytePairMergeTests: XCTestCase {
    func merge(_ table: RankTable, _ bytes: [UInt8], heap: Bool) -> [UInt32] {
        var out = [UInt32]()
        let padded = bytes + [UInt8](repeating: 0, count: RankTable.readPadding)
        padded.withUnsafeBufferPointer { buffer in
            if heap { table.mergeHeap(buffer.baseAddress!, bytes.count, into: &out) }
            else { table.mergeLinear(buffer.baseAddress!, bytes.count, into: &out) }
        }
        return out
    }

    func testHeapMergeEqualsLinearMerge() throws {
        let tok = try O200kTokenizer.harmony()
        var rng = SplitMix64(seed: 42)
        let samples = ["the quick brown fox", "你好世界我爱自然语言处理", "😀👍🏽🇺🇸", "aaaaaaaaaaaaaaaaaaaaaaaa",
                       "ababababababababab", "=====------=====", "Ωmega ÉTÉ naïve", "\u{0301}\u{0301}\u{0301}x"]
        var pieces = samples.map { Array($0.utf8) }
        for _ in 0..<300 {
            // Random mixtures of sample fragments and random bytes, 2..200 bytes.
            var p = [UInt8]()
            let target = Int.random(in: 2...200, using: &rng)
            while p.count < target {
                if Bool.random(using: &rng) { p += samples.randomElement(using: &rng)!.utf8 }
                else { p.append(UInt8.random(in: 0...255, using: &rng)) }
            }
            pieces.append(Array(p.prefix(target)))
        }
        for p in pieces where p.count >= 2 {
            let linear = merge(tok.ranks, p, heap: false)
            XCTAssertEqual(merge(tok.ranks, p, heap: true), linear, "\(p)")
            XCTAssertEqual(tok.decodeBytes(linear), p)
        }
    }
}

/// Deterministic generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
