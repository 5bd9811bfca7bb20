// bf16 conversion, the MXFP4 code table and scales (spec §2.2), and the YaRN table (spec §3.4).
import XCTest
@testable import Core

final class NumericsTests: XCTestCase {
    func testBF16Conversion() {
        XCTAssertEqual(BF16.toFloat(0x3F80), 1.0)
        XCTAssertEqual(BF16.toFloat(0xC000), -2.0)
        XCTAssertEqual(BF16.toFloat(0x3E00), 0.125)
        XCTAssertEqual(BF16.fromFloat(1.0), 0x3F80)
        // Round to nearest even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 → even (1.0).
        XCTAssertEqual(BF16.fromFloat(1 + 1.0 / 256), 0x3F80)
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 → even (0x3F82).
        XCTAssertEqual(BF16.fromFloat(1 + 3.0 / 256), 0x3F82)
        XCTAssertEqual(BF16.fromFloat(1 + 1.0 / 256 + 1.0 / 65536), 0x3F81)
        XCTAssertEqual(BF16.fromFloat(.infinity), 0x7F80)
        XCTAssertTrue(BF16.toFloat(BF16.fromFloat(.nan)).isNaN)
        XCTAssertEqual(BF16.fromFloat(Float.greatestFiniteMagnitude), 0x7F80)  // rounds up to inf
        for bits in stride(from: 0, to: 0x7F80, by: 37) {
            XCTAssertEqual(BF16.fromFloat(BF16.toFloat(UInt16(bits))), UInt16(bits))
        }
    }

    func testFP4TableMatchesSpec() {
        let spec: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6]
        XCTAssertEqual(MXFP4.fp4Values.map(\.bitPattern), spec.map(\.bitPattern))
        for i in 0..<16 { XCTAssertEqual(MXFP4.fp4Table[i].bitPattern, spec[i].bitPattern) }
        XCTAssertEqual(MXFP4.fp4Values[8].sign, .minus)
    }

    func testE8M0Scale() {
        XCTAssertEqual(MXFP4.scale(127), 1)
        XCTAssertEqual(MXFP4.scale(128), 2)
        XCTAssertEqual(MXFP4.scale(120), 1.0 / 128)
        XCTAssertEqual(MXFP4.scale(1), Float.leastNormalMagnitude)          // 2^-126
        XCTAssertEqual(MXFP4.scale(0), Float.leastNormalMagnitude / 2)      // 2^-127, subnormal
        XCTAssertEqual(MXFP4.scale(254), Float(sign: .plus, exponent: 127, significand: 1))
        XCTAssertEqual(MXFP4.scale(255), .infinity)
        for s in 0...254 { XCTAssertEqual(MXFP4.scale(UInt8(s)), Float(sign: .plus, exponent: s - 127, significand: 1)) }
    }

    /// Byte-exact dequantization of one row per spec §2.2: low nibble = even element.
    func testMXFP4RowDequantization() {
        // Two blocks (64 inputs). Block 0 scale 2^0, block 1 scale 2^-2.
        var blocks = [UInt8](repeating: 0, count: 32)
        blocks[0] = 0x72          // element 0 = code 2 (+1), element 1 = code 7 (+6)
        blocks[15] = 0xF9         // element 30 = code 9 (−0.5), element 31 = code F (−6)
        blocks[16] = 0x8C         // element 32 = code C (−2) × 1/4, element 33 = code 8 (−0)
        let scales: [UInt8] = [127, 125]
        var out = [Float](repeating: 99, count: 64)
        MXFP4.dequantizeRow(blocks: blocks, scales: scales, cols: 64, into: &out)
        XCTAssertEqual(out[0], 1); XCTAssertEqual(out[1], 6)
        XCTAssertEqual(out[30], -0.5); XCTAssertEqual(out[31], -6)
        XCTAssertEqual(out[32], -0.5); XCTAssertEqual(out[33].bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(out[2], 0)
        // Every code × every scale against the table (exhaustive over codes, sampled scales).
        for s: UInt8 in [0, 1, 100, 127, 140, 254] {
            for byte in 0...255 {
                var b = [UInt8](repeating: 0, count: 16); b[5] = UInt8(byte)
                var o = [Float](repeating: 0, count: 32)
                MXFP4.dequantizeRow(blocks: b, scales: [s], cols: 32, into: &o)
                let sc = MXFP4.scale(s)
                XCTAssertEqual(o[10].bitPattern, (MXFP4.fp4Values[byte & 0xF] * sc).bitPattern)
                XCTAssertEqual(o[11].bitPattern, (MXFP4.fp4Values[byte >> 4] * sc).bitPattern)
            }
        }
    }

    func testYaRNTableMatchesSpec() {
        let rope = RotaryEmbedding(config: .gptOss20b)
        let spec: [Float] = [
            1.000000e+00, 6.890443e-01, 4.747820e-01, 3.271458e-01, 2.254180e-01, 1.553230e-01, 1.070244e-01, 7.374457e-02,
            5.081328e-02, 3.170570e-02, 1.933500e-02, 1.159205e-02, 6.794959e-03, 3.860359e-03, 2.093793e-03, 1.052602e-03,
            4.564839e-04, 1.293187e-04, 3.830881e-05, 2.639647e-05, 1.818834e-05, 1.253257e-05, 8.635496e-06, 5.950239e-06,
            4.099978e-06, 2.825067e-06, 1.946596e-06, 1.341291e-06, 9.242090e-07, 6.368209e-07, 4.387979e-07, 3.023511e-07]
        XCTAssertEqual(rope.inverseFrequencies.count, 32)
        for j in 0..<32 {
            XCTAssertEqual(rope.inverseFrequencies[j], spec[j], accuracy: spec[j] * 2e-6, "j = \(j)")
        }
        XCTAssertEqual(rope.attentionFactor, 1.3465736, accuracy: 1e-7)
        XCTAssertEqual(rope.correctionRange!.low, 8.092779115512402, accuracy: 1e-12)
        XCTAssertEqual(rope.correctionRange!.high, 17.39802450158856, accuracy: 1e-12)
        var c = [Float](repeating: 0, count: 32), s = [Float](repeating: 0, count: 32)
        rope.cosSin(position: 1, cos: &c, sin: &s)
        XCTAssertEqual(c[0], 0.727557, accuracy: 1e-6); XCTAssertEqual(s[0], 1.133103, accuracy: 1e-6)
        rope.cosSin(position: 1000, cos: &c, sin: &s)
        XCTAssertEqual(c[12], 1.174047, accuracy: 1e-6); XCTAssertEqual(s[12], 0.659450, accuracy: 1e-6)
        rope.cosSin(position: 0, cos: &c, sin: &s)
        XCTAssertEqual(c[31], 1.3465736, accuracy: 1e-7); XCTAssertEqual(s[31], 0)
    }

    func testPlainRopeWithoutScaling() {
        var cfg = SyntheticCheckpoint.config(.tiny)
        cfg.ropeScaling = nil
        cfg.ropeTheta = 10000
        let rope = RotaryEmbedding(config: cfg)
        XCTAssertEqual(rope.attentionFactor, 1)
        XCTAssertEqual(rope.inverseFrequencies[1], 1 / powf(10000, 2.0 / 16), accuracy: 1e-9)
    }
}
