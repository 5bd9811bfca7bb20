// Backend semantics on the fixture and synthetic models: chunked / incremental prefill equals the
// full pass, a batch of sequences at different positions equals single runs (bit-exact), sampling
// is reproducible, slots are reused, and bad steps throw BackendError.
import XCTest
import Foundation
@testable import Core
@testable import CPUBackend

final class BatchingTests: XCTestCase {
    /// Logits of the whole `tokens` run in one step.
    func fullPass(_ backend: CPUBackend, _ tokens: [Int32]) throws -> [Float] {
        let slot = try backend.allocateSlot()
        defer { backend.freeSlot(slot) }
        return try backend.step([SequenceStep(slot: slot, tokens: tokens, startPosition: 0, logits: .all)])[0].logits
    }

    func testIncrementalDecodingEqualsFullPass() throws {
        // tiny-c: window 16; 40 tokens wrap the sliding ring twice.
        let backend = try CPUBackend(modelDirectory: Fixtures.dir("tiny-c"), maxSlots: 2, maxContext: 64, threads: 2)
        let tokens = try Fixtures.cases("tiny-c").cases.last!.prompt_ids
        let full = try fullPass(backend, tokens)
        let V = backend.config.vocabSize
        // One token at a time, then in uneven chunks.
        for chunks in [Array(repeating: 1, count: tokens.count), [7, 1, 16, 3, 13]] {
            let slot = try backend.allocateSlot()
            var pos = 0
            var got: [Float] = []
            for n in chunks {
                let r = try backend.step([SequenceStep(slot: slot, tokens: Array(tokens[pos..<(pos + n)]), startPosition: pos, logits: .all)])[0]
                got += r.logits
                pos += n
            }
            backend.freeSlot(slot)
            XCTAssertEqual(got.count, tokens.count * V)
            let err = relativeMaxError(got, full)
            XCTAssertLessThanOrEqual(err, 1e-5, "chunks \(chunks): \(err)")
        }
    }

    func testBatchEqualsSingleRuns() throws {
        let backend = try CPUBackend(modelDirectory: Fixtures.dir("tiny-b"), maxSlots: 3, maxContext: 64, threads: 2)
        let prompts: [[Int32]] = [[5, 9, 200, 33, 7, 1, 2, 3, 4, 5, 6], [17, 18], [900, 1, 44, 3, 2]]
        // Single runs: prefill, then 3 greedy steps each; record every step's logits.
        var single: [[[Float]]] = []
        var singleTokens: [[Int32]] = []
        for p in prompts {
            let slot = try backend.allocateSlot()
            var r = try backend.step([SequenceStep(slot: slot, tokens: p, startPosition: 0, logits: .all)])[0]
            var logs = [r.logits]
            var toks = [r.token]
            for i in 0..<3 {
                r = try backend.step([SequenceStep(slot: slot, tokens: [r.token], startPosition: p.count + i, logits: .last)])[0]
                logs.append(r.logits); toks.append(r.token)
            }
            backend.freeSlot(slot)
            single.append(logs); singleTokens.append(toks)
        }
        // Batched, staggered: seq 0 prefills alone, then seq 1's prefill joins seq 0's decode, etc.
        let slots = try (0..<3).map { _ in try backend.allocateSlot() }
        var next: [Int32] = [0, 0, 0]
        var pos = [0, 0, 0]
        var steps = [0, 0, 0]
        var batchedLogits: [[[Float]]] = [[], [], []]
        var batchedTokens: [[Int32]] = [[], [], []]
        for round in 0..<6 {
            var batch: [SequenceStep] = []
            var who: [Int] = []
            for s in 0..<3 where round >= s && steps[s] < 4 {
                let toks = steps[s] == 0 ? prompts[s] : [next[s]]
                batch.append(SequenceStep(slot: slots[s], tokens: toks, startPosition: pos[s], logits: steps[s] == 0 ? .all : .last))
                who.append(s)
            }
            if batch.isEmpty { continue }
            let results = try backend.step(batch.reversed())   // order must not matter either
            for (s, r) in zip(who.reversed(), results) {
                batchedLogits[s].append(r.logits)
                batchedTokens[s].append(r.token)
                pos[s] += batch[who.firstIndex(of: s)!].tokens.count
                next[s] = r.token
                steps[s] += 1
            }
        }
        for s in 0..<3 {
            XCTAssertEqual(batchedTokens[s], singleTokens[s], "sequence \(s)")
            XCTAssertEqual(batchedLogits[s], single[s], "sequence \(s): batched logits must be bit-identical")
        }
    }

    func testSeededSamplingIsReproducible() throws {
        let backend = try CPUBackend(modelDirectory: Fixtures.dir("tiny-a"), maxSlots: 1, maxContext: 64, threads: 2)
        func run(seed: UInt64) throws -> [Int32] {
            let slot = try backend.allocateSlot()
            defer { backend.freeSlot(slot) }
            let params = SamplingParams(temperature: 1.0, topP: 0.9, topK: 50, seed: seed)
            var out: [Int32] = []
            var r = try backend.step([SequenceStep(slot: slot, tokens: [1, 2, 3], startPosition: 0, sampling: params, sampleIndex: 0)])[0]
            out.append(r.token)
            for i in 1..<10 {
                r = try backend.step([SequenceStep(slot: slot, tokens: [r.token], startPosition: 2 + i, sampling: params, sampleIndex: UInt64(i))])[0]
                out.append(r.token)
            }
            return out
        }
        let a = try run(seed: 11), b = try run(seed: 11), c = try run(seed: 12)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    func testBadStepsThrow() throws {
        let backend = try CPUBackend(modelDirectory: Fixtures.dir("tiny-a"), maxSlots: 1, maxContext: 8, threads: 1)
        let slot = try backend.allocateSlot()
        XCTAssertThrowsError(try backend.allocateSlot()) { XCTAssertEqual($0 as? BackendError, .noFreeSlot(maxSlots: 1)) }
        XCTAssertThrowsError(try backend.step([SequenceStep(slot: slot, tokens: [1], startPosition: 3)])) {
            XCTAssertEqual($0 as? BackendError, .positionMismatch(slot: 0, expected: 0, got: 3))
        }
        XCTAssertThrowsError(try backend.step([SequenceStep(slot: slot, tokens: [512], startPosition: 0)])) {
            XCTAssertEqual($0 as? BackendError, .tokenOutOfRange(token: 512, vocabSize: 512))
        }
        XCTAssertThrowsError(try backend.step([SequenceStep(slot: slot, tokens: Array(repeating: 1, count: 9), startPosition: 0)])) {
            XCTAssertEqual($0 as? BackendError, .contextOverflow(slot: 0, needed: 9, maxContext: 8))
        }
        XCTAssertThrowsError(try backend.step([SequenceStep(slot: 5, tokens: [1], startPosition: 0)])) {
            XCTAssertEqual($0 as? BackendError, .invalidSlot(5))
        }
        XCTAssertThrowsError(try backend.step([SequenceStep(slot: slot, tokens: [], startPosition: 0)])) {
            XCTAssertEqual($0 as? BackendError, .emptyStep(slot: 0))
        }
        // Nothing was appended by the failed steps.
        XCTAssertEqual(backend.length(ofSlot: slot), 0)
        backend.freeSlot(slot)
        XCTAssertEqual(try backend.allocateSlot(), 0)
    }

    func testSyntheticModelStaysFinite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-small-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try SyntheticCheckpoint.write(config: SyntheticCheckpoint.config(.small), to: dir, seed: 3)
        let backend = try CPUBackend(modelDirectory: dir, maxSlots: 1, maxContext: 32, threads: 2)
        let slot = try backend.allocateSlot()
        let r = try backend.step([SequenceStep(slot: slot, tokens: (0..<20).map { Int32($0 * 97 % 2048) }, startPosition: 0, logits: .all)])[0]
        XCTAssertEqual(r.logits.count, 20 * 2048)
        XCTAssertTrue(r.logits.allSatisfy { $0.isFinite })
        let maxAbs = r.logits.map(abs).max()!
        XCTAssertGreaterThan(maxAbs, 0.1)
        XCTAssertLessThan(maxAbs, 100)
    }
}

/// The CPU backend's MXFP4 row decoder against Core's reference decoder (spec §2.2), byte-exact for
/// every byte value and every scale byte.
final class MXFP4KernelTests: XCTestCase {
    func testRowDecodeMatchesReferenceForEveryCodeAndScale() {
        var blocks = [UInt8](repeating: 0, count: 16 * 256)
        for i in 0..<blocks.count { blocks[i] = UInt8(truncatingIfNeeded: i &* 37 &+ i / 16) }
        for b in 0..<256 { blocks[b * 16 + 3] = UInt8(b) }   // every byte value, each under another scale
        let scales = (0..<256).map { UInt8($0) }
        var reference = [Float](repeating: 0, count: 256 * 32)
        var got = [Float](repeating: 0, count: 256 * 32)
        MXFP4.dequantizeRow(blocks: blocks, scales: scales, cols: 256 * 32, into: &reference)
        Kernels.fp4Pairs.withUnsafeBufferPointer { pairs in
            Kernels.dequantizeRow(blocks: blocks, scales: scales, cols: 256 * 32, pairs: pairs.baseAddress!, into: &got)
        }
        for i in 0..<(256 * 32) {
            let a = reference[i], b = got[i]
            XCTAssertTrue(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "element \(i): \(a) vs \(b)")
        }
    }
}
