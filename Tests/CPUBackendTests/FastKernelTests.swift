// The CPUKernels C kernels against the simple reference at several shapes and at every kernel level
// this CPU supports (portable C, AVX2, AVX-512, AVX-512 VNNI): bf16 and MXFP4 GEMMs with and without bias, token
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

    /// The decode GEMV (one token) gives the same bits whether it takes 1, 2 or 4 far-apart rows per
    /// pass, and the same bits as the batched tiles give that token (so batching stays bit-exact).
    func testBF16DecodeRowsPerPassBitIdentical() {
        defer { gk_set_bf16_decode_rows(2) }
        var rng = TestRNG(state: 11)
        for (rows, cols) in [(1, 16), (3, 40), (7, 100), (9, 2880), (130, 288), (261, 96)] {
            let w = (0..<(rows * cols)).map { _ in BF16.fromFloat(rng.float()) }
            let bias = (0..<rows).map { _ in BF16.fromFloat(rng.float()) }
            let x = (0..<cols).map { _ in rng.float() }
            let x3 = x + (0..<(2 * cols)).map { _ in rng.float() }   // 3 tokens, the first is x
            for level in levels {
                XCTAssertEqual(gk_set_level(level), level)
                func run(_ tokens: Int, _ xs: [Float]) -> [Float] {
                    var out = [Float](repeating: .nan, count: tokens * rows)
                    out.withUnsafeMutableBufferPointer { op in
                        gk_bf16_gemm(w, cols, Int32(rows), Int32(cols), xs, cols, Int32(tokens), bias, op.baseAddress, rows)
                    }
                    return out
                }
                let batched = Array(run(3, x3)[0..<rows])
                for s in [Int32(1), 2, 4] {
                    XCTAssertEqual(gk_set_bf16_decode_rows(s), s)
                    let one = run(1, x)
                    XCTAssertEqual(one.map(\.bitPattern), batched.map(\.bitPattern), "level \(level), \(s) rows per pass, \(rows)×\(cols)")
                }
            }
        }
    }

    /// gk_mxfp4_prepare each token's x at the current level, then gk_mxfp4_gemm: out [tokens, rows].
    func mxfp4Gemm(_ blocks: [UInt8], _ scales: [UInt8], rows: Int, cols: Int, x: [Float], tokens: Int,
                   bias: [UInt16]? = nil) -> [Float] {
        let ld = gk_mxfp4_prepared_floats(Int32(cols))
        var xp = [Float](repeating: .nan, count: max(tokens, 1) * ld)
        for t in 0..<tokens {
            x.withUnsafeBufferPointer { src in
                xp.withUnsafeMutableBufferPointer { dst in gk_mxfp4_prepare(src.baseAddress! + t * cols, Int32(cols), dst.baseAddress! + t * ld) }
            }
        }
        var out = [Float](repeating: .nan, count: tokens * rows)
        out.withUnsafeMutableBufferPointer { o in
            if let bias {
                gk_mxfp4_gemm(blocks, scales, Int32(rows), Int32(cols), xp, ld, Int32(tokens), bias, o.baseAddress, rows)
            } else {
                gk_mxfp4_gemm(blocks, scales, Int32(rows), Int32(cols), xp, ld, Int32(tokens), nil, o.baseAddress, rows)
            }
        }
        return out
    }

    /// Per-element error bound of level 3's activations: |x − s_b·(hi + mid/2^8 + lo/2^16)| ≤ s_b/2^17
    /// + 2.5e-7·|x| with s_b = max|x| of the 32-block / 127 (the second term: f32 rounding of x·127/max).
    /// This constant is the first term per unit of the block max: 1/(127·2^17), 1 % slack.
    static let q8ElementBound = 1.01 / (127.0 * 131072)   // ≈ 6.1e-8
    /// The exact result (double), Σ|w·x| (+ |bias|), and level 3's error bound for each (token, row):
    /// Σ_b (Σ_{i∈b} |w_i|) · q8ElementBound · max_b|x| + 1.3e-6·Σ|w·x| (2.5e-7 per element above, and
    /// the f32 conversion, scaling and accumulation), plus the whole
    /// Σ|w·x| of blocks whose E8M0 scale is 0 (level 3 counts 2^−127 as 0).
    func mxfp4Exact(_ blocks: [UInt8], _ scales: [UInt8], rows: Int, cols: Int, x: [Float], tokens: Int,
                    bias: [UInt16]?) -> (exact: [Double], mag: [Double], q8: [Double]) {
        let nb = cols / 32
        var exact = [Double](repeating: 0, count: tokens * rows), mag = exact, q8 = exact
        var row = [Double](repeating: 0, count: cols)   // in double: 6·2^127 (E8M0 254) overflows f32
        for r in 0..<rows {
            for c in 0..<cols {
                let byte = blocks[r * cols / 2 + c / 2], s = Int(scales[r * nb + c / 32])
                row[c] = Double(MXFP4.fp4Values[Int(c % 2 == 0 ? byte & 15 : byte >> 4)]) * pow(2.0, Double(s - 127))
            }
            for t in 0..<tokens {
                var sum = 0.0, m = 0.0, bound = 0.0
                for g in 0..<nb {
                    var wsum = 0.0, xmax = 0.0, bm = 0.0
                    for c in (32 * g)..<(32 * g + 32) {
                        let p = row[c] * Double(x[t * cols + c])
                        sum += p; bm += abs(p)
                        wsum += abs(row[c]); xmax = max(xmax, abs(Double(x[t * cols + c])))
                    }
                    m += bm
                    bound += scales[r * nb + g] == 0 ? bm : wsum * xmax * Self.q8ElementBound
                }
                let b = bias.map { Double(BF16.toFloat($0[r])) } ?? 0
                exact[t * rows + r] = sum + b; mag[t * rows + r] = m + abs(b)
                q8[t * rows + r] = bound + 1.3e-6 * (m + abs(b)) + 1e-35
            }
        }
        return (exact, mag, q8)
    }

    /// Levels 0–2 (f32): within 1e-5 · Σ|w·x| (check); level 3: within the q8 bound of mxfp4Exact.
    func checkMXFP4(level: Int32, _ got: [Float], _ ref: (exact: [Double], mag: [Double], q8: [Double]), _ what: String) {
        guard level == 3 else { return check(got, ref.exact, ref.mag, what) }
        XCTAssertEqual(got.count, ref.exact.count)
        var worst = 0.0
        for i in got.indices {
            XCTAssertFalse(got[i].isNaN, "\(what): element \(i) not written")
            worst = max(worst, abs(Double(got[i]) - ref.exact[i]) / ref.q8[i])
        }
        XCTAssertLessThanOrEqual(worst, 1, what)
    }

    func testMXFP4GemmMatchesReferenceAtEveryLevel() {
        // (rows, cols, tokens): tiles of 1 row × 1 token (decode) and 2 rows × ≤6 tokens (AVX-512, VNNI),
        // 1 × ≤4 (AVX2); VNNI chunks of 4 blocks with 1–3 blocks left over (cols 32, 64, 96, 160, 2880).
        let shapes = [(1, 32, 1), (4, 64, 1), (5, 96, 1), (3, 64, 2), (9, 96, 9), (6, 2880, 3), (17, 288, 17), (2, 32, 8),
                      (3, 160, 1), (7, 512, 7), (5, 2880, 1)]
        var rng = TestRNG(state: 11)
        for (rows, cols, tokens) in shapes {
            let nb = cols / 32
            let blocks = (0..<(rows * nb * 16)).map { _ in rng.byte() }
            // Scales around 2^0 plus the extreme 0 (2^−127, subnormal products).
            let scales = (0..<(rows * nb)).map { i -> UInt8 in i % 7 == 3 ? 0 : 120 + rng.byte() % 14 }
            let bias: [UInt16]? = rows % 2 == 0 ? (0..<rows).map { _ in BF16.fromFloat(rng.float()) } : nil
            let x = (0..<(tokens * cols)).map { _ in rng.float() }
            let ref = mxfp4Exact(blocks, scales, rows: rows, cols: cols, x: x, tokens: tokens, bias: bias)
            for level in levels {
                XCTAssertEqual(gk_set_level(level), level)
                let out = mxfp4Gemm(blocks, scales, rows: rows, cols: cols, x: x, tokens: tokens, bias: bias)
                checkMXFP4(level: level, out, ref, "mxfp4 level \(level) shape \(rows)×\(cols)×\(tokens)")
            }
        }
    }

    /// Level 3's edge cases, one 32-block each: an all-zero block, blocks at ±max|x| only, values that
    /// round a term to ±128 (the carries), huge and tiny blocks side by side, −0 codes, every FP4
    /// code at E8M0 scales 0, 1, 126, 127, 128 and 254 (x small enough that 6·2^127·x stays finite).
    func testVNNIEdgeCases() throws {
        try XCTSkipIf(gk_detected_level() < 3, "no AVX-512 VNNI on this CPU")
        let cols = 32 * 12, rows = 16 * 7 + 16, nb = cols / 32
        var rng = TestRNG(state: 23)
        var x = [Float](repeating: 0, count: cols)   // block 0: all zero
        for i in 0..<32 { x[32 + i] = i % 3 == 0 ? 3.5 : -3.5 }                   // block 1: ±max only
        for i in 0..<32 { x[64 + i] = i == 31 ? 1.27 : Float(i % 2 == 0 ? 1 : -1) * (Float(i % 5) + 0.4985) * 0.01 } // block 2: mid rounds to ±128
        for i in 0..<32 { x[96 + i] = i == 7 ? 1e4 : rng.float() * 1e-3 }           // block 3: one spike
        for i in 0..<32 { x[128 + i] = rng.float() * 1e-30 }                         // block 4: tiny
        for i in 0..<32 { x[160 + i] = rng.float() * 3e4 }                           // block 5: large
        for i in 0..<32 { x[192 + i] = Float(i - 16) / 127 }                         // block 6: exact hi
        for i in 0..<32 {                                                            // block 7: lo rounds to ±128
            x[224 + i] = i == 0 ? -1.27 : Float(i % 2 == 0 ? 1 : -1) * (Float(i % 4) + (Float(3 * i) + 0.499) / 256) / 100
        }
        for i in 256..<cols { x[i] = rng.float() * 1e-9 }                            // blocks 8–11: small (scale 254)
        // Rows: every code pair in every position at scales 0, 1, 126, 127, 128, 254 and random.
        var blocks = [UInt8](repeating: 0, count: rows * nb * 16), scales = [UInt8](repeating: 127, count: rows * nb)
        let scaleSet: [UInt8] = [0, 1, 126, 127, 128, 254, 200]
        for r in 0..<rows {
            for g in 0..<nb {
                for j in 0..<16 {
                    let lo = UInt8((r + j) % 16), hi = UInt8((r / 16 + 3 * j + g) % 16)
                    blocks[(r * nb + g) * 16 + j] = r < 16 * scaleSet.count ? lo | hi << 4 : rng.byte()
                }
                let s = r < 16 * scaleSet.count ? scaleSet[r / 16] : 120 + rng.byte() % 8
                // Scales above 128 only where x is tiny enough to keep every product finite.
                scales[r * nb + g] = s > 128 && g < 8 && g != 4 ? 127 : s
            }
        }
        for r in 0..<16 { for j in 0..<16 { blocks[(r * nb + 1) * 16 + j] = 0x88 } }   // −0 codes only
        let ref = mxfp4Exact(blocks, scales, rows: rows, cols: cols, x: x, tokens: 1, bias: nil)
        XCTAssertEqual(gk_set_level(3), 3)
        let out = mxfp4Gemm(blocks, scales, rows: rows, cols: cols, x: x, tokens: 1)
        checkMXFP4(level: 3, out, ref, "vnni edge cases")
        for i in out.indices { XCTAssertTrue(out[i].isFinite, "row \(i): \(out[i])") }
        // Each activation alone (row r = 1.0 at column r, E8M0 127): out[r] within the per-element bound.
        let probeRows = cols
        var probe = [UInt8](repeating: 0, count: probeRows * nb * 16)
        for r in 0..<probeRows { probe[r * nb * 16 + r / 2] = r % 2 == 0 ? 0x02 : 0x20 }   // code 2 = 1.0
        let single = mxfp4Gemm(probe, [UInt8](repeating: 127, count: probeRows * nb), rows: probeRows, cols: cols, x: x, tokens: 1)
        for r in 0..<probeRows {
            let b = r / 32, xmax = x[(32 * b)..<(32 * b + 32)].map { abs(Double($0)) }.max()!
            XCTAssertLessThanOrEqual(abs(Double(single[r]) - Double(x[r])), xmax * Self.q8ElementBound + 4e-7 * abs(Double(x[r])),
                                     "column \(r): \(single[r]) vs \(x[r])")
        }
        XCTAssertEqual(single[0..<32].map { $0 }, [Float](repeating: 0, count: 32), "all-zero block")
    }

    /// A token's result must not depend on how many tokens share the call (batched = single runs).
    func testMXFP4ResultIndependentOfTokenCount() {
        var rng = TestRNG(state: 5)
        let rows = 6, cols = 160, tokens = 11, nb = cols / 32
        let blocks = (0..<(rows * nb * 16)).map { _ in rng.byte() }
        let scales = (0..<(rows * nb)).map { _ in 122 + rng.byte() % 8 }
        let x = (0..<(tokens * cols)).map { _ in rng.float() }
        for level in levels {
            gk_set_level(level)
            let all = mxfp4Gemm(blocks, scales, rows: rows, cols: cols, x: x, tokens: tokens)
            for t in 0..<tokens {
                let one = mxfp4Gemm(blocks, scales, rows: rows, cols: cols, x: Array(x[(t * cols)..<((t + 1) * cols)]), tokens: 1)
                XCTAssertEqual(one, Array(all[(t * rows)..<((t + 1) * rows)]), "level \(level) token \(t)")
            }
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
