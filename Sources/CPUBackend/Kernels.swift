// CPU kernels over f32 activations: RMSNorm, the bf16 linear layer (row-parallel over the C kernels
// of CPUKernels), and the simple reference kernels (f32/bf16 dot products, the per-byte MXFP4 row
// decoder, `referenceLinear`) that the fast path is tested against and that
// `CPUBackend(useReferenceKernels: true)` runs.
import Core
import CPUKernels

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

    /// byte → (value of low nibble, value of high nibble), unscaled (spec §2.2: low = even element).
    static let fp4Pairs: [SIMD2<Float>] = (0..<256).map {
        SIMD2(MXFP4.fp4Values[$0 & 0xF], MXFP4.fp4Values[$0 >> 4])
    }

    /// Decodes one MXFP4 row of `cols` inputs into `out` (exact: every value is a power-of-two
    /// multiple of an FP4 code).
    @inline(__always)
    static func dequantizeRow(blocks: UnsafePointer<UInt8>, scales: UnsafePointer<UInt8>, cols: Int,
                              pairs: UnsafePointer<SIMD2<Float>>, into out: UnsafeMutablePointer<Float>) {
        let o2 = UnsafeMutableRawPointer(out)
        for g in 0..<(cols / 32) {
            let s = SIMD2<Float>(repeating: MXFP4.scale(scales[g]))
            let b = blocks + g * 16
            for j in 0..<16 {
                o2.storeBytes(of: pairs[Int(b[j])] * s, toByteOffset: (g * 32 + 2 * j) * 4, as: SIMD2<Float>.self)
            }
        }
    }

    /// RMSNorm of one row (spec §3.3): y = w ⊙ (x · 1/sqrt(mean(x²) + eps)), all f32.
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: BF16Tensor, eps: Float, n: Int, out: UnsafeMutablePointer<Float>) {
        let ss = dot(x, x, n)
        let r = 1 / (ss / Float(n) + eps).squareRoot()
        for i in 0..<n { out[i] = weight[i] * (x[i] * r) }
    }

    /// out[t, r] = W[r]·x[t] + b[r] for t < tokens, r < W.rows. x: [tokens, in] f32, out: [tokens, outStride] f32
    /// (columns 0..<W.rows written). Parallel over output rows; each worker streams its rows once
    /// through `gk_bf16_gemm` (tiles of rows × tokens). Each (token, row) result depends only on that
    /// row and token, so batching does not change it.
    static func linear(_ x: UnsafePointer<Float>, tokens: Int, weight: BF16Tensor, bias: BF16Tensor?,
                       out: UnsafeMutablePointer<Float>, outStride: Int? = nil, parallel: Parallel) {
        let rows = weight.rows, cols = weight.cols
        let stride = outStride ?? rows
        let w = weight.pointer
        let b = bias?.pointer
        parallel.forEach(rows, minChunk: 64, align: 4) { range, _ in
            let r0 = range.lowerBound
            gk_bf16_gemm(w + r0 * cols, cols, Int32(range.count), Int32(cols), x, cols, Int32(tokens),
                         b.map { $0 + r0 }, out + r0, stride)
        }
    }

    /// The reference of `linear`: one `dotBF16` per (row, token).
    static func referenceLinear(_ x: UnsafePointer<Float>, tokens: Int, weight: BF16Tensor, bias: BF16Tensor?,
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
