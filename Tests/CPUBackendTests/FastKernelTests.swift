// The CPUKernels C kernels against the simple reference at several shapes and at every kernel level
// this CPU supports (portable C, AVX2, AVX-512): bf16 and MXFP4 GEMMs with and without bias, token
// counts that hit every tile width and remainder, columns that are not a multiple of the vector
// width; every output element written (outputs are poisoned with NaN first). And the whole forward
// pass with the fast kernels against the reference kernels on the fixture models.
import XCTest
import Foundation
@testable import Core
@testable import CPUBackend
import CPUKernels

/// Deterministic inputs (SplitMix64).
struct TestRNG {
    var state: UInt64
    mutating func next() -> UInt64 { state = CounterRNG.mix(state &+ 0x9E37_79B9_7F4A_7C15); return state }
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }   // [-1, 1)
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 32) }
}

final class FastKernelTests: XCTestCase {
    var levels: [Int32] { Array(0...gk_detected_level()) }
    override func tearDown() { gk_set_level(gk_detected_level()) }

    /// |fast − exact| ≤ 1e-5 · Σ|w·x| (+ a tiny absolute floor) for every element, and no NaN.
    func check(_ got: [Float], _ exact: [Double], _ mag: [Double], _ what: String) {
        XCTAssertEqual(got.count, exact.count)
        var worst = 0.0
        for i in got.indices {
            XCTAssertFalse(got[i].isNaN, "\(what): element \(i) not written")
            let err = abs(Double(got[i]) - exact[i]) / (mag[i] + 1e-30)
            worst = max(worst, err)
        }
        XCTAssertLessThanOrEqual(worst, 1e-5, what)
    }

    func testBF16GemmMatchesReferenceAtEveryLevel() {
        // (rows, cols, tokens): tiles of 4 rows × ≤6 tokens (AVX-512) / ≤2 (AVX2), row and column remainders.
        let shapes = [(1, 16, 1), (4, 32, 1), (5, 40, 3), (7, 100, 1), (9, 96, 7), (13, 2880, 2), (33, 64, 13), (130, 288, 6)]
        var rng = TestRNG(state: 7)
        for (rows, cols, tokens) in shapes {
            let w = (0..<(rows * cols)).map { _ in BF16.fromFloat(rng.float()) }
            let bias: [UInt16]? = rows % 2 == 1 ? (0..<rows).map { _ in BF16.fromFloat(rng.float()) } : nil
            let x = (0..<(tokens * cols)).map { _ in rng.float() }
            var exact = [Double](repeating: 0, count: tokens * rows), mag = exact
            for t in 0..<tokens {
                for r in 0..<rows {
                    var s = 0.0, m = 0.0
                    for c in 0..<cols {
                        let p = Double(BF16.toFloat(w[r * cols + c])) * Double(x[t * cols + c])
                        s += p; m += abs(p)
                    }
                    let b = bias.map { Double(BF16.toFloat($0[r])) } ?? 0
                    exact[t * rows + r] = s + b; mag[t * rows + r] = m + abs(b)
                }
            }
            for level in levels {
                XCTAssertEqual(gk_set_level(level), level)
                var out = [Float](repeating: .nan, count: tokens * rows)
                w.withUnsafeBufferPointer { wp in
                    x.withUnsafeBufferPointer { xp in
                        out.withUnsafeMutableBufferPointer { op in
                            if let bias {
                                bias.withUnsafeBufferPointer { bp in
                                    gk_bf16_gemm(wp.baseAddress, cols, Int32(rows), Int32(cols), xp.baseAddress, cols, Int32(tokens), bp.baseAddress, op.baseAddress, rows)
                                }
                            } else {
                                gk_bf16_gemm(wp.baseAddress, cols, Int32(rows), Int32(cols), xp.baseAddress, cols, Int32(tokens), nil, op.baseAddress, rows)
                            }
                        }
                    }
                }
                check(out, exact, mag, "bf16 level \(level) shape \(rows)×\(cols)×\(tokens)")
            }
        }
    }

    func testMXFP4GemmMatchesReferenceAtEveryLevel() {
        // (rows, cols, tokens): tiles of 4 rows × 1 token and 2 rows × ≤8 tokens (AVX-512), 1 × ≤4 (AVX2).
        let shapes = [(1, 32, 1), (4, 64, 1), (5, 96, 1), (3, 64, 2), (9, 96, 9), (6, 2880, 3), (17, 288, 17), (2, 32, 8)]
        var rng = TestRNG(state: 11)
        for (rows, cols, tokens) in shapes {
            let nb = cols / 32
            let blocks = (0..<(rows * nb * 16)).map { _ in rng.byte() }
            // Scales around 2^0 plus the extreme 0 (2^−127, subnormal products).
            let scales = (0..<(rows * nb)).map { i -> UInt8 in i % 7 == 3 ? 0 : 120 + rng.byte() % 14 }
            let bias: [UInt16]? = rows % 2 == 0 ? (0..<rows).map { _ in BF16.fromFloat(rng.float()) } : nil
            let x = (0..<(tokens * cols)).map { _ in rng.float() }
            var xp = [Float](repeating: 0, count: tokens * cols)
            for t in 0..<tokens {
                x.withUnsafeBufferPointer { src in
                    xp.withUnsafeMutableBufferPointer { dst in gk_mxfp4_permute(src.baseAddress! + t * cols, Int32(cols), dst.baseAddress! + t * cols) }
                }
            }
            var exact = [Double](repeating: 0, count: tokens * rows), mag = exact
            var row = [Float](repeating: 0, count: cols)
            for r in 0..<rows {
                blocks.withUnsafeBufferPointer { b in
                    scales.withUnsafeBufferPointer { s in
                        row.withUnsafeMutableBufferPointer { o in
                            MXFP4.dequantizeRow(blocks: b.baseAddress! + r * nb * 16, scales: s.baseAddress! + r * nb, cols: cols, into: o.baseAddress!)
                        }
                    }
                }
                for t in 0..<tokens {
                    var sum = 0.0, m = 0.0
                    for c in 0..<cols { let p = Double(row[c]) * Double(x[t * cols + c]); sum += p; m += abs(p) }
                    let b = bias.map { Double(BF16.toFloat($0[r])) } ?? 0
                    exact[t * rows + r] = sum + b; mag[t * rows + r] = m + abs(b)
                }
            }
            for level in levels {
                XCTAssertEqual(gk_set_level(level), level)
                var out = [Float](repeating: .nan, count: tokens * rows)
                blocks.withUnsafeBufferPointer { b in
                    scales.withUnsafeBufferPointer { s in
                        xp.withUnsafeBufferPointer { xq in
                            out.withUnsafeMutableBufferPointer { o in
                                if let bias {
                                    bias.withUnsafeBufferPointer { bp in
                                        gk_mxfp4_gemm(b.baseAddress, s.baseAddress, Int32(rows), Int32(cols), xq.baseAddress, cols, Int32(tokens), bp.baseAddress, o.baseAddress, rows)
                                    }
                                } else {
                                    gk_mxfp4_gemm(b.baseAddress, s.baseAddress, Int32(rows), Int32(cols), xq.baseAddress, cols, Int32(tokens), nil, o.baseAddress, rows)
                                }
                            }
                        }
                    }
                }
                check(out, exact, mag, "mxfp4 level \(level) shape \(rows)×\(cols)×\(tokens)")
            }
        }
    }

    /// A token's result must not depend on how many tokens share the call (batched = single runs).
    func testMXFP4ResultIndependentOfTokenCount() {
        var rng = TestRNG(state: 5)
        let rows = 6, cols = 96, tokens = 11, nb = cols / 32
        let blocks = (0..<(rows * nb * 16)).map { _ in rng.byte() }
        let scales = (0..<(rows * nb)).map { _ in 122 + rng.byte() % 8 }
        let xp = (0..<(tokens * cols)).map { _ in rng.float() }
        for level in levels {
            gk_set_level(level)
            func run(_ n: Int, from t0: Int) -> [Float] {
                var out = [Float](repeating: .nan, count: n * rows)
                gk_mxfp4_gemm(blocks, scales, Int32(rows), Int32(cols), Array(xp[(t0 * cols)...]), cols, Int32(n), nil, &out, rows)
                return out
            }
            let all = run(tokens, from: 0)
            for t in 0..<tokens { XCTAssertEqual(run(1, from: t), Array(all[(t * rows)..<((t + 1) * rows)]), "level \(level) token \(t)") }
        }
    }

    func testPermutedLayout() {
        let x = (0..<96).map { Float($0) }
        var xp = [Float](repeating: -1, count: 96)
        gk_mxfp4_permute(x, 96, &xp)
        for c in 0..<96 { XCTAssertEqual(xp[Int(gk_mxfp4_permuted_index(Int32(c)))], Float(c)) }
        XCTAssertEqual(Array(xp[0..<4]), [0, 2, 4, 6])
        XCTAssertEqual(Array(xp[16..<18]), [1, 3])
    }

    /// The fast backend against the reference kernels on every fixture model: logits at every
    /// position within 1e-5 · max|ref|, identical greedy tokens.
    func testForwardPassFastMatchesReferenceKernels() throws {
        for model in Fixtures.models {
            let fast = try CPUBackend(modelDirectory: Fixtures.dir(model), maxSlots: 1, maxContext: 64, threads: 2)
            let ref = try CPUBackend(modelDirectory: Fixtures.dir(model), maxSlots: 1, maxContext: 64, threads: 2, useReferenceKernels: true)
            for c in try Fixtures.cases(model).cases {
                let a = try fast.step([SequenceStep(slot: try fast.allocateSlot(), tokens: c.prompt_ids, startPosition: 0, logits: .all)])[0]
                let b = try ref.step([SequenceStep(slot: try ref.allocateSlot(), tokens: c.prompt_ids, startPosition: 0, logits: .all)])[0]
                fast.freeSlot(0); ref.freeSlot(0)
                let err = relativeMaxError(a.logits, b.logits)
                XCTAssertLessThanOrEqual(err, 1e-5, "\(model)/\(c.name): \(err)")
                XCTAssertEqual(a.token, b.token, "\(model)/\(c.name)")
            }
        }
    }

    /// A long prompt in one step (two attention chunks; the sliding ring of tiny-c, window 16 +
    /// KVCache.chunk, wraps inside the step) equals the same tokens fed one at a time, and the
    /// reference kernels.
    func testLongPromptInOneStepEqualsTokenByToken() throws {
        let n = KVCache.chunk + 60
        let backend = try CPUBackend(modelDirectory: Fixtures.dir("tiny-c"), maxSlots: 1, maxContext: n + 8, threads: 2)
        let reference = try CPUBackend(modelDirectory: Fixtures.dir("tiny-c"), maxSlots: 1, maxContext: n + 8, threads: 2,
                                       useReferenceKernels: true)
        XCTAssertLessThan(KVCache(config: backend.config, maxContext: n + 8).capacity[0], n, "the ring must wrap")
        var rng = TestRNG(state: 3)
        let tokens = (0..<n).map { _ in Int32(rng.next() % UInt64(backend.config.vocabSize)) }
        let whole = try backend.step([SequenceStep(slot: try backend.allocateSlot(), tokens: tokens, startPosition: 0, logits: .all)])[0]
        backend.freeSlot(0)
        let slot = try backend.allocateSlot()
        var stepped: [Float] = []
        for (i, t) in tokens.enumerated() {
            stepped += try backend.step([SequenceStep(slot: slot, tokens: [t], startPosition: i, logits: .last)])[0].logits
        }
        let ref = try reference.step([SequenceStep(slot: try reference.allocateSlot(), tokens: tokens, startPosition: 0, logits: .all)])[0]
        XCTAssertLessThanOrEqual(relativeMaxError(whole.logits, stepped), 1e-5)
        XCTAssertLessThanOrEqual(relativeMaxError(whole.logits, ref.logits), 1e-5)
    }
}
