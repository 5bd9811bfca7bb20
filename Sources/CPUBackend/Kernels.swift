// CPU kernels over f32 activations: dot products against f32, bf16 and dequantized MXFP4 rows,
// RMSNorm, linear layers (row-parallel, tokens inner so each weight row is read once per step and
// each (token, row) result is independent of the batch), and the MXFP4 row decoder.
import Core

enum Kernels {
    /// Σ a[i]·b[i], f32 accumulation in 2×16 lanes.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 32 <= n {
            acc0 = acc0.addingProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                                      rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            acc1 = acc1.addingProduct(ra.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD16<Float>.self),
                                      rb.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD16<Float>.self))
            i += 32
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Σ bf16(w[i])·x[i]: bf16 widened to f32 in registers.
    @inline(__always)
    static func dotBF16(_ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        let rw = UnsafeRawPointer(w), rx = UnsafeRawPointer(x)
        var i = 0
        while i + 32 <= n {
            let w0 = rw.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<UInt16>.self)
            let w1 = rw.loadUnaligned(fromByteOffset: i * 2 + 32, as: SIMD16<UInt16>.self)
            let f0 = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: w0) &<< 16, to: SIMD16<Float>.self)
            let f1 = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: w1) &<< 16, to: SIMD16<Float>.self)
            acc0 = acc0.addingProduct(f0, rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            acc1 = acc1.addingProduct(f1, rx.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD16<Float>.self))
            i += 32
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += BF16.toFloat(w[i]) * x[i]; i += 1 }
        return s
    }

    // MARK: MXFP4 in "split" layout
    // Within each block of 32 inputs the 16 even elements come first, then the 16 odd ones: exactly
    // the low and high nibbles of the block's 16 bytes, so a block decodes with plain SIMD ops.
    // Activations that meet MXFP4 rows are stored in the same layout, and dot products are unchanged.

    /// Decodes 16 FP4 codes (one per UInt32 lane, 0...15) to f32 bit-exactly (spec §2.2 table):
    /// magnitude m = c & 7 → 0, 0.5, then 2^((m >> 1) − 1)·(1 + (m & 1)/2); sign = bit 3.
    @inline(__always)
    static func decodeFP4(_ c: SIMD16<UInt32>) -> SIMD16<Float> {
        let m = c & 7
        var bits = (((m &>> 1) &+ 126) &<< 23) | ((m & 1) &<< 22)
        bits.replace(with: 126 << 23, where: m .== 1)
        bits.replace(with: 0, where: m .== 0)
        return unsafeBitCast(bits | ((c & 8) &<< 28), to: SIMD16<Float>.self)
    }

    /// Decodes one MXFP4 row of `cols` inputs into `out` in split layout (exact).
    @inline(__always)
    static func dequantizeRowSplit(blocks: UnsafePointer<UInt8>, scales: UnsafePointer<UInt8>, cols: Int,
                                   into out: UnsafeMutablePointer<Float>) {
        let raw = UnsafeRawPointer(blocks)
        let o = UnsafeMutableRawPointer(out)
        for g in 0..<(cols / 32) {
            let bytes = SIMD16<UInt32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: g * 16, as: SIMD16<UInt8>.self))
            let s = SIMD16<Float>(repeating: MXFP4.scale(scales[g]))
            o.storeBytes(of: decodeFP4(bytes & 0xF) * s, toByteOffset: g * 128, as: SIMD16<Float>.self)
            o.storeBytes(of: decodeFP4(bytes &>> 4) * s, toByteOffset: g * 128 + 64, as: SIMD16<Float>.self)
        }
    }

    /// Index of natural element `i` in split layout.
    @inline(__always) static func splitIndex(_ i: Int) -> Int { (i & ~31) | ((i & 1) << 4) | ((i & 31) >> 1) }

    /// Copies `n` (a multiple of 32) values into split layout.
    static func toSplit(_ x: UnsafePointer<Float>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<n { out[splitIndex(i)] = x[i] }
    }

    /// RMSNorm of one row (spec §3.3): y = w ⊙ (x · 1/sqrt(mean(x²) + eps)), all f32.
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: BF16Tensor, eps: Float, n: Int, out: UnsafeMutablePointer<Float>) {
        let ss = dot(x, x, n)
        let r = 1 / (ss / Float(n) + eps).squareRoot()
        for i in 0..<n { out[i] = weight[i] * (x[i] * r) }
    }

    /// out[t, r] = W[r]·x[t] + b[r] for t < tokens, r < W.rows. x: [tokens, in] f32, out: [tokens, outStride] f32
    /// (columns 0..<W.rows written). Parallel over output rows.
    static func linear(_ x: UnsafePointer<Float>, tokens: Int, weight: BF16Tensor, bias: BF16Tensor?,
                       out: UnsafeMutablePointer<Float>, outStride: Int? = nil, parallel: Parallel) {
        let rows = weight.rows, cols = weight.cols
        let stride = outStride ?? rows
        let w = weight.pointer
        let b = bias?.pointer
        parallel.forEach(rows, minChunk: 16) { range, _ in
            for r in range {
                let wr = w + r * cols
                let br: Float = b.map { BF16.toFloat($0[r]) } ?? 0
                for t in 0..<tokens {
                    out[t * stride + r] = dotBF16(wr, x + t * cols, cols) + br
                }
            }
        }
    }
}
