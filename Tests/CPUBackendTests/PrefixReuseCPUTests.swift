// CPUBackend.keepPrefix (prefix reuse): cutting a slot's cache back and continuing from there gives the
// logits of a run that never held the cut tokens; a sliding layer's ring allows the cut only while the
// tokens cut off have not wrapped over the window the next query reads (fullSlidingCache lifts that).
import Core
@testable import CPUBackend
import XCTest

final class PrefixReuseCPUTests: XCTestCase {
    /// 300 fixed pseudo-random token ids (tiny-b has 1024).
    private let tokens: [Int32] = (0 ..< 300).map { Int32(($0 * 193 + 71) % 509) }

    /// Feeds tokens[from ..< to] in chunks of ≤ 100 (within KVCache.chunk) and returns the last position's logits.
    private func feed(_ b: CPUBackend, slot: Int, from: Int, to: Int) throws -> [Float] {
        var logits: [Float] = []
        var p = from
        while p < to {
            let n = min(100, to - p)
            let r = try b.step([SequenceStep(slot: slot, tokens: Array(tokens[p ..< p + n]), startPosition: p,
                                             logits: p + n == to ? .last : .none)])
            logits = r[0].logits
            p += n
        }
        return logits
    }

    private func assertClose(_ a: [Float], _ b: [Float], _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        let scale = a.map(abs).max() ?? 1
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(diff, 1e-5 * scale, "\(what): max |Δ| \(diff) of max |logit| \(scale)")
        XCTAssertEqual(a.firstIndex(of: a.max()!), b.firstIndex(of: b.max()!), what)
    }

    func testRingCacheAllowsOnlyCutsThatKeepTheWindow() throws {
        // tiny-b: layers 0 and 2 slide over 8 positions; their rings hold min(8 + 256, 400) = 264.
        let b = try CPUBackend(modelDirectory: Fixtures.dir("tiny-b"), maxSlots: 1, maxContext: 400, threads: 2)
        let slot = try b.allocateSlot()
        let reference = try feed(b, slot: slot, from: 0, to: 300)
        // 10 tokens cut off (≤ 264 − 8): the window before position 290 is intact.
        XCTAssertEqual(b.keepPrefix(ofSlot: slot, length: 290), 290)
        XCTAssertEqual(b.length(ofSlot: slot), 290)
        assertClose(try feed(b, slot: slot, from: 290, to: 300), reference, "ring, cut to 290")
        // 290 tokens cut off: the ring wrapped over the window before position 10, so nothing is kept.
        XCTAssertEqual(b.keepPrefix(ofSlot: slot, length: 10), 0)
        XCTAssertEqual(b.length(ofSlot: slot), 0)
        assertClose(try feed(b, slot: slot, from: 0, to: 300), reference, "ring, refilled from 0")
        // Why: forcing that cut anyway continues from overwritten keys and changes the logits.
        b.slots[slot]?.length = 10
        let forced = try feed(b, slot: slot, from: 10, to: 300)
        XCTAssertGreaterThan(zip(forced, reference).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }

    func testFullSlidingCacheAllowsAnyCut() throws {
        let b = try CPUBackend(modelDirectory: Fixtures.dir("tiny-b"), maxSlots: 1, maxContext: 400, threads: 2,
                               fullSlidingCache: true)
        let slot = try b.allocateSlot()
        let reference = try feed(b, slot: slot, from: 0, to: 300)
        XCTAssertEqual(b.keepPrefix(ofSlot: slot, length: 10), 10)
        assertClose(try feed(b, slot: slot, from: 10, to: 300), reference, "full cache, cut to 10")
        XCTAssertEqual(b.keepPrefix(ofSlot: slot, length: 1000), 300, "capped at what the slot holds")
        b.freeSlot(slot)
        XCTAssertEqual(b.keepPrefix(ofSlot: slot, length: 5), 0, "a free slot keeps nothing")
    }
}
