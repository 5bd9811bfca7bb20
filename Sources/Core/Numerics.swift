// Scalar number formats of the checkpoint: bfloat16 ↔ f32 (round-to-nearest-even), the FP4 E2M1
// code table and E8M0 block scales of MXFP4 (spec §2.2), and row dequantization of one MXFP4 row.

public enum BF16 {
    /// bf16 bits → f32 (exact).
    @inline(__always)
    public static func toFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// f32 → bf16 bits with round-to-nearest-even; NaN stays a (quiet) NaN, ±inf stays ±inf.
    @inline(__always)
    public static func fromFloat(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: (u >> 16) | 0x0040) }
        let rounding = 0x7FFF &+ ((u >> 16) & 1)
        return UInt16(truncatingIfNeeded: (u &+ rounding) >> 16)
    }

    /// A whole bf16 buffer → [Float].
    public static func toFloats(_ p: UnsafePointer<UInt16>, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buf, n in
            for i in 0..<count { buf[i] = toFloat(p[i]) }
            n = count
        }
    }
}

public enum MXFP4 {
    /// FP4 E2M1 code → value (bit 3 is the sign), spec §2.2.
    public static let fp4Values: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6]
    /// The same table as a SIMD vector (for register lookups).
    public static let fp4Table = SIMD16<Float>(0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6)

    /// E8M0 scale byte → 2^(s − 127). s = 0 gives 2^−127 (an f32 subnormal), s = 255 gives +inf
    /// (HF computes 2^128 with ldexp and does not special-case NaN).
    @inline(__always)
    public static func scale(_ s: UInt8) -> Float {
        switch s {
        case 0: return Float(bitPattern: 0x0040_0000)   // 2^-127
        case 255: return .infinity
        default: return Float(bitPattern: UInt32(s) << 23)
        }
    }

    /// Dequantizes one row of `cols` inputs: `blocks` holds cols/2 bytes (cols/32 blocks of 16),
    /// `scales` holds cols/32 bytes. Writes `cols` floats to `out`. Low nibble = even element.
    public static func dequantizeRow(blocks: UnsafePointer<UInt8>, scales: UnsafePointer<UInt8>, cols: Int,
                                     into out: UnsafeMutablePointer<Float>) {
        for g in 0..<(cols / 32) {
            let s = scale(scales[g])
            for b in 0..<16 {
                let byte = blocks[g * 16 + b]
                out[32 * g + 2 * b] = fp4Values[Int(byte & 0xF)] * s
                out[32 * g + 2 * b + 1] = fp4Values[Int(byte >> 4)] * s
            }
        }
    }
}
