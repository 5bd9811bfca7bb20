// tc_gemm.cu: many-token matrix products on tensor cores (mma.sync m16n8k16, bf16 operands, f32
// accumulation): the dense bf16-weight GEMM (QKV, o_proj, lm_head over many rows) with bias and
// residual epilogue, and the MXFP4 expert GEMMs of the MoE block for tokens grouped by expert
// (gate_up with the clamped SwiGLU epilogue, down with the expert bias). Activations enter as bf16
// (f32_to_bf16 below); MXFP4 weights are dequantized to bf16 in shared memory, which is exact (every
// e2m1 value times a power-of-two scale is a bf16 number).
//
// Tiling (all kernels): block 256 threads = 8 warps as 2 (M) × 4 (N); block tile 128 × 128, k-slice 32;
// warp tile 64 × 32 = 4 × 4 mma tiles. Two shared-memory stages: the next slice's copies (cp.async for
// bf16 operands, registers for MXFP4 codes) are in flight while the current slice is multiplied.
#include "tensor_core.h"

#define TC_BM 128
#define TC_BN 128
#define TC_BK 32
#define TC_LDS 40  // shared row stride in bf16 (80 B): 8 ldmatrix rows fall in 8 distinct 16-B bank groups

// x [n] f32 -> y [n] bf16 (round to nearest even). grid-stride; any n.
GPTOSS_KERNEL void f32_to_bf16(const float *__restrict__ x, u16 *__restrict__ y, int n) {
    const int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; 4 * i < n; i += stride) {
        if (4 * i + 3 < n) {
            const float4 v = ((const float4 *)x)[i];
            ((uint2 *)y)[i] = make_uint2(pack_bf16(v.x, v.y), pack_bf16(v.z, v.w));
        } else {
            for (int j = 4 * i; j < n; j++) y[j] = f32_to_bf16(x[j]);
        }
    }
}

// One 32-wide k-slice of the warp tile: acc[mt][nt] += A[64 rows] · B[32 cols]ᵀ from shared memory
// (As: [128][TC_LDS] rows = M, Bs: [128][TC_LDS] rows = N, k contiguous in both).
DEVI void tc_slice(const u16 *As, const u16 *Bs, float acc[4][4][4], int wm, int wn, int lane) {
#pragma unroll
    for (int ks = 0; ks < TC_BK / 16; ks++) {
        u32 a[4][4], b[4][2];
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
            ldmatrix_x4(a[mt][0], a[mt][1], a[mt][2], a[mt][3],
                        smem_addr(As + (wm * 64 + mt * 16 + (lane & 15)) * TC_LDS + ks * 16 + (lane >> 4) * 8));
#pragma unroll
        for (int np = 0; np < 2; np++)
            ldmatrix_x4(b[2 * np][0], b[2 * np][1], b[2 * np + 1][0], b[2 * np + 1][1],
                        smem_addr(Bs + (wn * 32 + np * 16 + (lane & 7) + (lane >> 4) * 8) * TC_LDS + ks * 16 + ((lane >> 3) & 1) * 8));
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int nt = 0; nt < 4; nt++) mma_bf16(acc[mt][nt], a[mt], b[nt][0], b[nt][1]);
    }
}

DEVI void tc_zero(float acc[4][4][4]) {
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[mt][nt][j] = 0.f;
}

// Y[m, n] (+)= Σ_k A[m, k]·W[n, k] + bias[n]
// A [M, K] bf16, W [N, K] bf16 (PyTorch [out, in]), bias [N] bf16 or null, Y [M, ldy] f32.
// K % 32 == 0. grid (ceil(N / 128), ceil(M / 128)), block 256.
GPTOSS_KERNEL void __launch_bounds__(256) bf16_gemm_tc(const u16 *__restrict__ A, const u16 *__restrict__ W,
                                                      const u16 *__restrict__ bias, float *__restrict__ Y,
                                                      int M, int N, int K, int ldy, int accumulate) {
    __shared__ __align__(16) u16 As[2][TC_BM * TC_LDS];
    __shared__ __align__(16) u16 Bs[2][TC_BN * TC_LDS];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, wm = warp & 1, wn = warp >> 1;
    const int m0 = blockIdx.y * TC_BM, n0 = blockIdx.x * TC_BN;
    // Each thread copies two 16-B chunks of A and two of B per slice: chunk c -> row c / 4, column 8·(c % 4).
    const u16 *asrc[2], *bsrc[2];
    int abytes[2], bbytes[2], soff[2];
#pragma unroll
    for (int i = 0; i < 2; i++) {
        const int c = tid + i * 256, row = c >> 2, col = (c & 3) * 8;
        asrc[i] = A + (i64)min(m0 + row, M - 1) * K + col;
        abytes[i] = m0 + row < M ? 16 : 0;
        bsrc[i] = W + (i64)min(n0 + row, N - 1) * K + col;
        bbytes[i] = n0 + row < N ? 16 : 0;
        soff[i] = row * TC_LDS + col;
    }
    float acc[4][4][4];
    tc_zero(acc);
    const int KT = K / TC_BK;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        cp_async16(smem_addr(&As[0][soff[i]]), asrc[i], abytes[i]);
        cp_async16(smem_addr(&Bs[0][soff[i]]), bsrc[i], bbytes[i]);
    }
    cp_async_commit();
    for (int kt = 0; kt < KT; kt++) {
        cp_async_wait_all();
        __syncthreads();  // slice kt landed; everyone is done with slice kt − 1's stage
        if (kt + 1 < KT) {
            const int st = (kt + 1) & 1, k0 = (kt + 1) * TC_BK;
#pragma unroll
            for (int i = 0; i < 2; i++) {
                cp_async16(smem_addr(&As[st][soff[i]]), asrc[i] + k0, abytes[i]);
                cp_async16(smem_addr(&Bs[st][soff[i]]), bsrc[i] + k0, bbytes[i]);
            }
            cp_async_commit();
        }
        tc_slice(As[kt & 1], Bs[kt & 1], acc, wm, wn, lane);
    }
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int r = m0 + wm * 64 + mt * 16 + (lane >> 2) + (j >> 1) * 8;
                const int c = n0 + wn * 32 + nt * 8 + (lane & 3) * 2 + (j & 1);
                if (r < M && c < N) {
                    float v = acc[mt][nt][j];
                    if (bias) v += bf16_to_f32(bias[c]);
                    float *dst = Y + (i64)r * ldy + c;
                    *dst = accumulate ? *dst + v : v;
                }
            }
}

// ---- MXFP4 experts ----------------------------------------------------------------------------------

// 16 MXFP4 values (8 code bytes, element 2j in the low nibble of byte j) times the block scale 2^(sc−127)
// -> 16 bf16 at dst (16-B aligned), exact: each product is representable in bf16.
#define TC_DQ(byte) __byte_perm(__float_as_uint(lut[(byte) & 15] * s), __float_as_uint(lut[((byte) >> 4) & 15] * s), 0x7632)
DEVI void mf4_dequant16(u16 *dst, uint2 code, u32 sc, const float *lut) {
    const float s = e8m0_to_f32(sc);
    uint4 *d = (uint4 *)dst;
    d[0] = make_uint4(TC_DQ(code.x), TC_DQ(code.x >> 8), TC_DQ(code.x >> 16), TC_DQ(code.x >> 24));
    d[1] = make_uint4(TC_DQ(code.y), TC_DQ(code.y >> 8), TC_DQ(code.y >> 16), TC_DQ(code.y >> 24));
}
#undef TC_DQ

// The shared main loop of both expert GEMMs for one tile of `count` ≤ 128 assignments of expert e:
// acc = A_rows · W_eᵀ for output columns n0 .. n0 + 127 of the expert's [N, K] MXFP4 matrix.
// A rows: row r of the tile is A[arow(r)] (bf16 [·, K]), arow(r) = sorted[r] / adiv.
// blocks [E, N, K/32, 16] u8 (element 2j in the low nibble of byte j), scales [E, N, K/32] u8 (e8m0).
DEVI void mf4_tile(const u16 *__restrict__ A, int adiv, const i32 *__restrict__ sorted, int count,
                   const u8 *__restrict__ blocks, const u8 *__restrict__ scales, int e, int N, int K, int n0,
                   u16 (*As)[TC_BM * TC_LDS], u16 (*Bs)[TC_BN * TC_LDS], const float *lut, float acc[4][4][4]) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, wm = warp & 1, wn = warp >> 1;
    const u16 *asrc[2];
    int abytes[2], soff[2];
#pragma unroll
    for (int i = 0; i < 2; i++) {
        const int c = tid + i * 256, row = c >> 2, col = (c & 3) * 8;
        asrc[i] = A + (i64)(row < count ? sorted[row] / adiv : 0) * K + col;
        abytes[i] = row < count ? 16 : 0;
        soff[i] = row * TC_LDS + col;
    }
    // B: thread → weight row n0 + tid / 2, half tid % 2 of the 32-element block (8 code bytes).
    const int brow = tid >> 1, bhalf = tid & 1;
    const i64 wrow = (i64)e * N + min(n0 + brow, N - 1);
    const u8 *bcodes = blocks + wrow * (K / 2) + bhalf * 8;
    const u8 *bscale = scales + wrow * (K / 32);
    const int boff = brow * TC_LDS + bhalf * 16;
    uint2 code = __ldg((const uint2 *)bcodes);
    u32 sc = bscale[0];
    tc_zero(acc);
    const int KT = K / TC_BK;
#pragma unroll
    for (int i = 0; i < 2; i++) cp_async16(smem_addr(&As[0][soff[i]]), asrc[i], abytes[i]);
    cp_async_commit();
    mf4_dequant16(&Bs[0][boff], code, sc, lut);
    for (int kt = 0; kt < KT; kt++) {
        cp_async_wait_all();
        __syncthreads();
        const bool more = kt + 1 < KT;
        if (more) {
            const int st = (kt + 1) & 1, k0 = (kt + 1) * TC_BK;
#pragma unroll
            for (int i = 0; i < 2; i++) cp_async16(smem_addr(&As[st][soff[i]]), asrc[i] + k0, abytes[i]);
            cp_async_commit();
            code = __ldg((const uint2 *)(bcodes + (kt + 1) * 16));
            sc = bscale[kt + 1];
        }
        tc_slice(As[kt & 1], Bs[kt & 1], acc, wm, wn, lane);
        if (more) mf4_dequant16(&Bs[(kt + 1) & 1][boff], code, sc, lut);
    }
}

// gate_up + clamped SwiGLU for one tile of assignments a = t·k + j of expert e:
//   u = W1_e·z[t] + b1_e (rows interleaved: 2i gate, 2i+1 up), gate = min(u[2i], limit),
//   up = clamp(u[2i+1], −limit, limit), act[a, i] = gate·σ(alpha·gate)·(up + 1)  (stored bf16).
// z [T, H] bf16, blocks [E, 2I, H/32, 16], scales [E, 2I, H/32], bias [E, 2I] bf16, act [T·k, I] bf16.
// tiles from f32_moe_route with tile = 128. grid (ceil(2I / 128), max_tiles), block 256.
GPTOSS_KERNEL void __launch_bounds__(256) bf16_mf4w_moe_gate_up_swiglu_tc(
    const u16 *__restrict__ z, const u8 *__restrict__ blocks, const u8 *__restrict__ scales,
    const u16 *__restrict__ bias, const i32 *__restrict__ sorted, const i32 *__restrict__ tiles,
    const i32 *__restrict__ num_tiles, u16 *__restrict__ act, int H, int I, int k, float limit, float alpha) {
    __shared__ __align__(16) u16 As[2][TC_BM * TC_LDS];
    __shared__ __align__(16) u16 Bs[2][TC_BN * TC_LDS];
    __shared__ float lut[16];
    fp4_table_fill(lut);
    __syncthreads();
    if ((int)blockIdx.y >= *num_tiles) return;
    const int e = tiles[3 * blockIdx.y], start = tiles[3 * blockIdx.y + 1], count = tiles[3 * blockIdx.y + 2];
    const int N = 2 * I, n0 = blockIdx.x * TC_BN;
    float acc[4][4][4];
    mf4_tile(z, k, sorted + start, count, blocks, scales, e, N, H, n0, As, Bs, lut, acc);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, wm = warp & 1, wn = warp >> 1;
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int r = wm * 64 + mt * 16 + (lane >> 2) + h * 8;
            if (r >= count) continue;
            const i64 arow = sorted[start + r];
#pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                const int c = n0 + wn * 32 + nt * 8 + (lane & 3) * 2;  // even: gate, c + 1: up
                if (c >= N) continue;
                const float gate = acc[mt][nt][2 * h] + bf16_to_f32(bias[(i64)e * N + c]);
                const float up = acc[mt][nt][2 * h + 1] + bf16_to_f32(bias[(i64)e * N + c + 1]);
                act[arow * I + c / 2] = f32_to_bf16(swiglu(gate, up, limit, alpha));
            }
        }
}

// down: y[a, :] = W2_e·act[a] + b2_e for each assignment a of the tile (the weighted combine follows).
// act [T·k, I] bf16, blocks [E, H, I/32, 16], scales [E, H, I/32], bias [E, H] bf16, y [T·k, H] f32.
// grid (ceil(H / 128), max_tiles), block 256.
GPTOSS_KERNEL void __launch_bounds__(256) bf16_mf4w_moe_down_tc(
    const u16 *__restrict__ act, const u8 *__restrict__ blocks, const u8 *__restrict__ scales,
    const u16 *__restrict__ bias, const i32 *__restrict__ sorted, const i32 *__restrict__ tiles,
    const i32 *__restrict__ num_tiles, float *__restrict__ y, int H, int I) {
    __shared__ __align__(16) u16 As[2][TC_BM * TC_LDS];
    __shared__ __align__(16) u16 Bs[2][TC_BN * TC_LDS];
    __shared__ float lut[16];
    fp4_table_fill(lut);
    __syncthreads();
    if ((int)blockIdx.y >= *num_tiles) return;
    const int e = tiles[3 * blockIdx.y], start = tiles[3 * blockIdx.y + 1], count = tiles[3 * blockIdx.y + 2];
    const int n0 = blockIdx.x * TC_BN;
    float acc[4][4][4];
    mf4_tile(act, 1, sorted + start, count, blocks, scales, e, H, I, n0, As, Bs, lut, acc);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, wm = warp & 1, wn = warp >> 1;
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int r = wm * 64 + mt * 16 + (lane >> 2) + h * 8;
            if (r >= count) continue;
            const i64 arow = sorted[start + r];
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    const int c = n0 + wn * 32 + nt * 8 + (lane & 3) * 2 + j;
                    if (c < H) y[arow * H + c] = acc[mt][nt][2 * h + j] + bf16_to_f32(bias[(i64)e * H + c]);
                }
        }
}

// ---- decode batches (steps of ≤ 256 rows, one position per sequence) -----------------------------------
// The 128 × 128 tiles above are sized for prefill. At a decode batch of 64 sequences an expert gets ≈ 8
// assignments, so mf4_tile multiplies 15/16 empty rows and keeps one 8-byte weight load in flight per thread
// (gate_up at 0.43 TB/s on an H100), and bf16_gemm_tc gives QKV 40 blocks. Below: the dense products in 32-row
// tiles with split K (bf16_gemm_tcs), and the MXFP4 experts in tiles of ≤ 32 assignments with the weights as the
// mma's A operand straight from registers (f16_mf4w_moe_*_tcr). docs/perf-notes.md "Batched decode on the GPU"
// has each step's measurements, including the shared-memory versions of the small expert tiles they replaced
// (git history at 755508e).
#define TCS_BM 32
#define TCS_BK 64
#define TCS_LDS 72  // shared row stride in bf16 (144 B): 8 ldmatrix rows fall in 8 distinct 16-B bank groups
#ifndef TCS_NS
#define TCS_NS 4    // bf16_gemm_tcs: cp.async stages (TCS_NS − 1 slices in flight)
#endif

// acc[mt][nt] += A[32 rows] · B[16 cols of warp wn]ᵀ for one 64-wide k-slice; mt = 1 only when `two`.
DEVI void tcs_slice(const u16 *As, const u16 *Bs, float acc[2][2][4], int wn, int lane, bool two) {
#pragma unroll
    for (int ks = 0; ks < TCS_BK / 16; ks++) {
        u32 a[2][4], b[2][2];
        ldmatrix_x4(b[0][0], b[0][1], b[1][0], b[1][1],
                    smem_addr(Bs + (wn * 16 + (lane & 7) + (lane >> 4) * 8) * TCS_LDS + ks * 16 + ((lane >> 3) & 1) * 8));
        ldmatrix_x4(a[0][0], a[0][1], a[0][2], a[0][3], smem_addr(As + (lane & 15) * TCS_LDS + ks * 16 + (lane >> 4) * 8));
        mma_bf16(acc[0][0], a[0], b[0][0], b[0][1]);
        mma_bf16(acc[0][1], a[0], b[1][0], b[1][1]);
        if (two) {
            ldmatrix_x4(a[1][0], a[1][1], a[1][2], a[1][3],
                        smem_addr(As + (16 + (lane & 15)) * TCS_LDS + ks * 16 + (lane >> 4) * 8));
            mma_bf16(acc[1][0], a[1], b[0][0], b[0][1]);
            mma_bf16(acc[1][1], a[1], b[1][0], b[1][1]);
        }
    }
}

DEVI u16 f32_to_f16(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
// Where element i of a row sits in the (0, 2, 4, 6, 1, 3, 5, 7)-per-8 order.
DEVI int perm8_pos(int i) { return (i & ~7) | ((i & 1) << 2) | ((i & 7) >> 1); }

// x [n] f32 -> y [n] f16 (round to nearest even) in the per-8 order (x0, x2, x4, x6, x1, x3, x5, x7) of
// fp4_word_f16x2's pairs. n % 8 == 0. grid-stride.
GPTOSS_KERNEL void f32_to_f16_perm8(const float *__restrict__ x, u16 *__restrict__ y, int n) {
    const int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; 8 * i < n; i += stride) {
        const float4 a = ((const float4 *)x)[2 * i], b = ((const float4 *)x)[2 * i + 1];
        ((uint4 *)y)[i] = make_uint4(f16x2_rn(a.x, a.z), f16x2_rn(b.x, b.z), f16x2_rn(a.y, a.w), f16x2_rn(b.y, b.w));
    }
}

// MXFP4 experts for decode batches. Operands are f16: the codes become exact f16 (value·2^-14, fp4_word_f16x2:
// 11 integer operations per 8 weights), each 32-wide block's partial products are scaled after its mmas, and the
// activations are rounded to f16 (11 significant bits, 8 times finer than the prefill path's bf16; |x| < 65504:
// the normed hidden state and the clamped SwiGLU output). The weights are the mma's A operand (m16 = 16 weight
// rows per warp), loaded by each lane as 4-byte code words: the quad of lanes q = 0..3 of row g reads word q of one 32-wide scale block, so each k16 mma step stays
// inside one block (fp4_word_f16x2's pairs p0, p1 feed the first mma, p2, p3 the second) and the block scale
// multiplies the two mmas' partials. The tokens are the n8 columns (B operand): their f16 activations, in the
// per-8 order of fp4_word_f16x2 (f32_to_f16_perm8), are staged per 256-wide k chunk (double-buffered cp.async);
// lane (g, q) reads token g's 16 bytes of group 4·block + q with one LDS.128 per block. Each warp keeps TCR_P
// blocks of its rows' code words and scales in flight in registers. No shared-memory weights, one barrier pair
// per 8 blocks.
#define TCR_TT 32      // staged activation rows per tile (four n8 column tiles): 32 assignments, or 16 split high/low
#define TCR_KC 256     // activation chunk (k) staged per barrier pair: 8 scale blocks
#define TCR_P 8        // weight blocks in flight per warp (= blocks per chunk)
#define TCR_LDA 288    // staged row stride in f16 (576 B ≡ 64 mod 128: an LDS.128 phase's 8 lanes, rows g and g + 1, hit 8 bank groups)

struct TcrRing { u32 w0[TCR_P], w1[TCR_P], s0[TCR_P], s1[TCR_P]; };

// Code word q and scale of block b for rows r0 (g) and r1 (g + 8) into ring slot j; zeros past the row's end.
#define TCR_LOAD(ring, j, b)                                                                          \
    do {                                                                                              \
        const bool on_ = (b) < NB;                                                                    \
        ring.w0[j] = on_ ? __ldg((const u32 *)(c0 + 16 * (b) + 4 * q)) : 0u;                          \
        ring.w1[j] = on_ ? __ldg((const u32 *)(c1 + 16 * (b) + 4 * q)) : 0u;                          \
        ring.s0[j] = on_ ? (u32)__ldg(sp0 + (b)) : 0u;                                                \
        ring.s1[j] = on_ ? (u32)__ldg(sp1 + (b)) : 0u;                                                \
    } while (0)

// acc[nt][·] = W_e[rows n0 + 16·warp + (g, g + 8)] · (staged rows 8·nt + (2q, 2q + 1)) for the tile's `count`
// assignments. HL = false: staged row j is token j's activations, A row sorted[j] / adiv (f16 [·, K] in the per-8
// order), count ≤ 32. HL = true: staged rows 2j and 2j + 1 are token j's f16 high and low parts, A rows
// 2·(sorted[j] / adiv) and 2·(sorted[j] / adiv) + 1 (f32_to_f16hl_perm8), count ≤ 16; each column pair then sums
// to the product with ≈ 22 significant bits of the activation (the batch-1 decode path's split). K % 32 == 0 (the
// last chunk's columns past K stage zeros).
template <bool HL>
DEVI void mf4r_tile(const u16 *__restrict__ A, int adiv, const i32 *__restrict__ sorted, int count,
                    const u8 *__restrict__ blocks, const u8 *__restrict__ scales, int e, int N, int K, int n0,
                    u16 (*As)[TCR_TT * TCR_LDA], float acc[4][4]) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, q = lane & 3;
    const int rows = HL ? 2 * count : count;
    const int NB = K / 32, NC = (K + TCR_KC - 1) / TCR_KC, ntiles = (rows + 7) >> 3;
    const i64 r0 = (i64)e * N + min(n0 + warp * 16 + g, N - 1), r1 = (i64)e * N + min(n0 + warp * 16 + g + 8, N - 1);
    const u8 *c0 = blocks + r0 * (K / 2), *c1 = blocks + r1 * (K / 2);
    const u8 *sp0 = scales + r0 * NB, *sp1 = scales + r1 * NB;
    // Activation staging: 16-byte pieces (row, piece) of the chunk, rows < 8·ntiles; rows ≥ `rows` read as zero.
    auto stage = [&](int c) {
        if (c < NC) {
            const int pieces = 8 * ntiles * (TCR_KC / 8);
            for (int i = tid; i < pieces; i += 256) {
                const int row = i / (TCR_KC / 8), col = (i % (TCR_KC / 8)) * 8, k = c * TCR_KC + col;
                const bool on = row < rows && k < K;
                const i64 arow = !on ? 0 : HL ? 2 * (i64)(sorted[row >> 1] / adiv) + (row & 1) : (i64)(sorted[row] / adiv);
                const u16 *src = A + arow * K + (on ? k : 0);
                cp_async16(smem_addr(&As[c & 1][row * TCR_LDA + col]), src, on ? 16 : 0);
            }
        }
        cp_async_commit();
    };
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[nt][j] = 0.f;
    TcrRing ring;
#pragma unroll
    for (int j = 0; j < TCR_P; j++) TCR_LOAD(ring, j, j);
    stage(0);
    stage(1);
    for (int c = 0; c < NC; c++) {
        cp_async_wait_group<1>();
        __syncthreads();   // chunk c staged by every thread
        const u16 *as = As[c & 1];
#pragma unroll
        for (int j = 0; j < TCR_P; j++) {
            const int b = c * TCR_P + j;
            if (b < NB) {   // warp-uniform
                u32 p0[4], p1[4];
                fp4_word_f16x2(ring.w0[j], p0);
                fp4_word_f16x2(ring.w1[j], p1);
                const float s0 = __uint_as_float((ring.s0[j] + 14u) << 23), s1 = __uint_as_float((ring.s1[j] + 14u) << 23);
                TCR_LOAD(ring, j, b + TCR_P);
#pragma unroll
                for (int nt = 0; nt < 4; nt++) {
                    if (nt < ntiles) {   // warp-uniform
                        const uint4 x = *(const uint4 *)&as[(nt * 8 + g) * TCR_LDA + j * 32 + q * 8];
                        float t[4] = {0.f, 0.f, 0.f, 0.f};
                        mma_f16(t, p0[0], p1[0], p0[1], p1[1], x.x, x.y);
                        mma_f16(t, p0[2], p1[2], p0[3], p1[3], x.z, x.w);
                        acc[nt][0] = fmaf(t[0], s0, acc[nt][0]);
                        acc[nt][1] = fmaf(t[1], s0, acc[nt][1]);
                        acc[nt][2] = fmaf(t[2], s1, acc[nt][2]);
                        acc[nt][3] = fmaf(t[3], s1, acc[nt][3]);
                    }
                }
            }
        }
        __syncthreads();   // everyone is done with buffer c & 1
        stage(c + 2);
    }
    cp_async_wait_group<0>();
}

// x [rows, K] f32 -> y [2·rows, K] f16: row 2r = hi = f16(x), row 2r + 1 = lo = f16(x − hi) (round to nearest
// even; x = hi + lo within ≈ 2^-22 |x| for |x| < 65504), both in the per-8 order of f32_to_f16_perm8. K % 8 == 0.
GPTOSS_KERNEL void f32_to_f16hl_perm8(const float *__restrict__ x, u16 *__restrict__ y, int rows, int K) {
    const int G = K / 8, stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < rows * G; i += stride) {
        const int r = i / G, c = i % G;
        const float4 a = ((const float4 *)(x + (i64)r * K))[2 * c], b = ((const float4 *)(x + (i64)r * K))[2 * c + 1];
        const float v[8] = {a.x, a.z, b.x, b.z, a.y, a.w, b.y, b.w};   // the per-8 order
        u32 hi[4], lo[4];
#pragma unroll
        for (int p = 0; p < 4; p++) {
            hi[p] = f16x2_rn(v[2 * p], v[2 * p + 1]);
            float h0, h1;
            f16x2_to_f32(hi[p], h0, h1);
            lo[p] = f16x2_rn(v[2 * p] - h0, v[2 * p + 1] - h1);
        }
        ((uint4 *)(y + (i64)(2 * r) * K))[c] = make_uint4(hi[0], hi[1], hi[2], hi[3]);
        ((uint4 *)(y + (i64)(2 * r + 1) * K))[c] = make_uint4(lo[0], lo[1], lo[2], lo[3]);
    }
}

DEVI float f16_to_f32(u16 h) {
    float f;
    asm("{.reg .f16 t;\n mov.b16 t, %1;\n cvt.f32.f16 %0, t;}" : "=f"(f) : "h"(h));
    return f;
}

// The expert kernels of decode batches, in two forms of one body (mf4r_tile<HL>):
//   f16_*_tcr (HL = false): steps on the tensor-core path; tiles of ≤ 32 assignments (f32_moe_group_many with
//     tile = 32); z [T, H] and act [T·k, I] f16 in the per-8 order (f32_to_f16_perm8). Lane (g, q) holds tokens
//     8·nt + 2q and 8·nt + 2q + 1.
//   f16hl_*_tcr (HL = true): small batches on the exact path (f32-class); tiles of ≤ 16 assignments
//     (f32_moe_route with tile = 16); z [2·T, H] from f32_to_f16hl_perm8, act [2·T·k, I] (rows 2a, 2a + 1: the
//     SwiGLU output's high and low parts). Lane (g, q) holds token 4·nt + q's high and low columns; their sum is
//     the product.
// gate_up + clamped SwiGLU: rows 2i (gate) and 2i + 1 (up) sit in lanes g and g + 1 (even g), paired by a
// shuffle. grid (ceil(2I / 128), max_tiles), block 256. H % 32 == 0, I % 8 == 0.
template <bool HL>
DEVI void mf4r_gate_up(const u16 *__restrict__ z, const u8 *__restrict__ blocks, const u8 *__restrict__ scales,
                       const u16 *__restrict__ bias, const i32 *__restrict__ sorted, const i32 *__restrict__ tiles,
                       const i32 *__restrict__ num_tiles, u16 *__restrict__ act, int H, int I, int k, float limit,
                       float alpha, u16 (*As)[TCR_TT * TCR_LDA]) {
    if ((int)blockIdx.y >= *num_tiles) return;
    const int e = tiles[3 * blockIdx.y], start = tiles[3 * blockIdx.y + 1], count = tiles[3 * blockIdx.y + 2];
    const int N = 2 * I, n0 = blockIdx.x * 128;
    float acc[4][4];
    mf4r_tile<HL>(z, k, sorted + start, count, blocks, scales, e, N, H, n0, As, acc);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, q = lane & 3;
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
        for (int j = 0; j < 4; j += HL ? 2 : 1) {
            const float v = HL ? acc[nt][j] + acc[nt][j + 1] : acc[nt][j];
            const float other = __shfl_xor_sync(0xffffffffu, v, 4);   // row g ^ 1
            const int row = n0 + warp * 16 + g + (j >> 1) * 8, tok = HL ? nt * 4 + q : nt * 8 + 2 * q + (j & 1);
            if ((g & 1) || row >= N || tok >= count) continue;
            const float o = swiglu(v + bf16_to_f32(bias[(i64)e * N + row]), other + bf16_to_f32(bias[(i64)e * N + row + 1]),
                                   limit, alpha);
            const i64 a = sorted[start + tok];
            const int col = perm8_pos(row / 2);
            const u16 hi = f32_to_f16(o);
            if (HL) {
                act[(2 * a) * I + col] = hi;
                act[(2 * a + 1) * I + col] = f32_to_f16(o - f16_to_f32(hi));
            } else {
                act[a * I + col] = hi;
            }
        }
}

// down: y[a, :] = W2_e·act[a] + b2_e for each assignment a of the tile (the weighted combine follows).
// grid (ceil(H / 128), max_tiles), block 256. I % 32 == 0.
template <bool HL>
DEVI void mf4r_down(const u16 *__restrict__ act, const u8 *__restrict__ blocks, const u8 *__restrict__ scales,
                    const u16 *__restrict__ bias, const i32 *__restrict__ sorted, const i32 *__restrict__ tiles,
                    const i32 *__restrict__ num_tiles, float *__restrict__ y, int H, int I, u16 (*As)[TCR_TT * TCR_LDA]) {
    if ((int)blockIdx.y >= *num_tiles) return;
    const int e = tiles[3 * blockIdx.y], start = tiles[3 * blockIdx.y + 1], count = tiles[3 * blockIdx.y + 2];
    const int n0 = blockIdx.x * 128;
    float acc[4][4];
    mf4r_tile<HL>(act, 1, sorted + start, count, blocks, scales, e, H, I, n0, As, acc);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, q = lane & 3;
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
        for (int j = 0; j < 4; j += HL ? 2 : 1) {
            const int row = n0 + warp * 16 + g + (j >> 1) * 8, tok = HL ? nt * 4 + q : nt * 8 + 2 * q + (j & 1);
            if (row < H && tok < count)
                y[(i64)sorted[start + tok] * H + row] = (HL ? acc[nt][j] + acc[nt][j + 1] : acc[nt][j]) + bf16_to_f32(bias[(i64)e * H + row]);
        }
}

#define MF4R_GATE_UP_PARAMS                                                                                  \
    const u16 *__restrict__ z, const u8 *__restrict__ blocks, const u8 *__restrict__ scales,                 \
        const u16 *__restrict__ bias, const i32 *__restrict__ sorted, const i32 *__restrict__ tiles,         \
        const i32 *__restrict__ num_tiles, u16 *__restrict__ act, int H, int I, int k, float limit, float alpha
#define MF4R_DOWN_PARAMS                                                                                     \
    const u16 *__restrict__ act, const u8 *__restrict__ blocks, const u8 *__restrict__ scales,               \
        const u16 *__restrict__ bias, const i32 *__restrict__ sorted, const i32 *__restrict__ tiles,         \
        const i32 *__restrict__ num_tiles, float *__restrict__ y, int H, int I
GPTOSS_KERNEL void __launch_bounds__(256) f16_mf4w_moe_gate_up_swiglu_tcr(MF4R_GATE_UP_PARAMS) {
    __shared__ __align__(16) u16 As[2][TCR_TT * TCR_LDA];
    mf4r_gate_up<false>(z, blocks, scales, bias, sorted, tiles, num_tiles, act, H, I, k, limit, alpha, As);
}
GPTOSS_KERNEL void __launch_bounds__(256) f16hl_mf4w_moe_gate_up_swiglu_tcr(MF4R_GATE_UP_PARAMS) {
    __shared__ __align__(16) u16 As[2][TCR_TT * TCR_LDA];
    mf4r_gate_up<true>(z, blocks, scales, bias, sorted, tiles, num_tiles, act, H, I, k, limit, alpha, As);
}
GPTOSS_KERNEL void __launch_bounds__(256) f16_mf4w_moe_down_tcr(MF4R_DOWN_PARAMS) {
    __shared__ __align__(16) u16 As[2][TCR_TT * TCR_LDA];
    mf4r_down<false>(act, blocks, scales, bias, sorted, tiles, num_tiles, y, H, I, As);
}
GPTOSS_KERNEL void __launch_bounds__(256) f16hl_mf4w_moe_down_tcr(MF4R_DOWN_PARAMS) {
    __shared__ __align__(16) u16 As[2][TCR_TT * TCR_LDA];
    mf4r_down<true>(act, blocks, scales, bias, sorted, tiles, num_tiles, y, H, I, As);
}
#undef MF4R_GATE_UP_PARAMS
#undef MF4R_DOWN_PARAMS

// Dense Y[m, n] (+)= Σ_k A[m, k]·W[n, k] + bias[n] for decode batches (M ≤ a few hundred): bf16_gemm_tc's
// 128 × 128 tiles give QKV (N = 5,120) 40 blocks per 128 rows, each streaming 737 KB through two 8-KB stages.
// Here: block tile 32 (M) × 128 (N) (tcs_slice's warps), k-slices of 64, a TCS_NS-stage cp.async ring
// (TCS_NS − 1 slices, 20 KB each, in flight), and K split over gridDim.z = S so small grids still fill the GPU:
// split z takes slices [z·KT/S, (z+1)·KT/S). S == 1 and !to_part: the block finishes Y itself (bias, accumulate).
// Else it writes its partial sums to part [S, M, N] f32 and bf16_gemm_tcs_reduce adds them in split order
// (deterministic), and with terms = 3 also the three rows of each token (f32_to_bf16x3's A).
// A [M, K] bf16, W [N, K] bf16, bias [N] bf16 or null, Y [M, ldy] f32. K % 64 == 0. grid (ceil(N / 128),
// ceil(M / 32), S), block 256, dynamic shared memory TCS_NS · (32 + 128) · TCS_LDS · 2 bytes.
GPTOSS_KERNEL void __launch_bounds__(256) bf16_gemm_tcs(const u16 *__restrict__ A, const u16 *__restrict__ W,
                                                       const u16 *__restrict__ bias, float *__restrict__ Y,
                                                       float *__restrict__ part, int M, int N, int K, int ldy,
                                                       int accumulate, int to_part) {
    extern __shared__ __align__(16) u16 tcs_smem[];
    u16 (*As)[TCS_BM * TCS_LDS] = (u16 (*)[TCS_BM * TCS_LDS])tcs_smem;
    u16 (*Bs)[128 * TCS_LDS] = (u16 (*)[128 * TCS_LDS])(tcs_smem + TCS_NS * TCS_BM * TCS_LDS);
    const int tid = threadIdx.x, lane = tid & 31, wn = tid >> 5;
    const int m0 = blockIdx.y * TCS_BM, n0 = blockIdx.x * 128, z = blockIdx.z, S = gridDim.z;
    const int KT = K / TCS_BK, k0 = z * KT / S, k1 = (z + 1) * KT / S;
    // A: one 16-B chunk per thread (row tid / 8, column 8·(tid % 8)); B: four (row c / 8, c = tid + 256·i).
    const int arow = tid >> 3, col = (tid & 7) * 8;
    const u16 *asrc = A + (i64)min(m0 + arow, M - 1) * K + col;
    const int abytes = m0 + arow < M ? 16 : 0, aoff = arow * TCS_LDS + col;
    const u16 *bsrc[4];
    int bbytes[4], boff[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int r = (tid >> 3) + 32 * i;
        bsrc[i] = W + (i64)min(n0 + r, N - 1) * K + col;
        bbytes[i] = n0 + r < N ? 16 : 0;
        boff[i] = r * TCS_LDS + col;
    }
    auto issue = [&](int kt) {   // slice kt into stage kt % TCS_NS (one commit group, empty past the end)
        if (kt < k1) {
            const int st = kt % TCS_NS, kk = kt * TCS_BK;
            cp_async16(smem_addr(&As[st][aoff]), asrc + kk, abytes);
#pragma unroll
            for (int i = 0; i < 4; i++) cp_async16(smem_addr(&Bs[st][boff[i]]), bsrc[i] + kk, bbytes[i]);
        }
        cp_async_commit();
    };
    float acc[2][2][4];
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[mt][nt][j] = 0.f;
    const bool two = M - m0 > 16;
#pragma unroll
    for (int i = 0; i < TCS_NS - 1; i++) issue(k0 + i);
    for (int kt = k0; kt < k1; kt++) {
        cp_async_wait_group<TCS_NS - 2>();   // slice kt landed (this thread's copies)
        __syncthreads();                     // everyone's copies of slice kt; slice kt − 1's stage is free
        issue(kt + TCS_NS - 1);
        tcs_slice(As[kt % TCS_NS], Bs[kt % TCS_NS], acc, wn, lane, two);
    }
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int r = m0 + mt * 16 + (lane >> 2) + (j >> 1) * 8;
                const int c = n0 + wn * 16 + nt * 8 + (lane & 3) * 2 + (j & 1);
                if (r < M && c < N) {
                    float v = acc[mt][nt][j];
                    if (S > 1 || to_part) {
                        part[((i64)z * M + r) * N + c] = v;
                    } else {
                        if (bias) v += bf16_to_f32(bias[c]);
                        float *dst = Y + (i64)r * ldy + c;
                        *dst = accumulate ? *dst + v : v;
                    }
                }
            }
}

// Y[m, n] (+)= Σ_z Σ_j part[z][terms·m + j][n] + bias[n], z = 0 .. S − 1 and j = 0 .. terms − 1 in order (part
// [S, terms·M, N]). grid-stride over M·N.
GPTOSS_KERNEL void bf16_gemm_tcs_reduce(const float *__restrict__ part, const u16 *__restrict__ bias,
                                        float *__restrict__ Y, int M, int N, int S, int ldy, int accumulate, int terms) {
    const i64 MN = (i64)M * N, PN = (i64)terms * MN;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < MN; i += (i64)gridDim.x * blockDim.x) {
        const int r = (int)(i / N), c = (int)(i % N);
        float v = 0.f;
        for (int z = 0; z < S; z++)
            for (int j = 0; j < terms; j++) v += part[z * PN + ((i64)terms * r + j) * N + c];
        if (bias) v += bf16_to_f32(bias[c]);
        float *dst = Y + (i64)r * ldy + c;
        *dst = accumulate ? *dst + v : v;
    }
}

// x [rows, K] f32 -> y [3·rows, K] bf16: rows 3r, 3r + 1, 3r + 2 = b0 = bf16(x), b1 = bf16(x − b0), b2 =
// bf16(x − b0 − b1) (round to nearest even each), so b0 + b1 + b2 carries x's 24 significant bits (normal range):
// bf16 tensor-core products against bf16 weights are then exact, and a small batch's dense products keep f32-class
// accuracy (bf16_gemm_tcs with 3·rows rows, bf16_gemm_tcs_reduce with terms = 3). grid-stride over rows·K.
GPTOSS_KERNEL void f32_to_bf16x3(const float *__restrict__ x, u16 *__restrict__ y, int rows, int K) {
    const i64 n = (i64)rows * K;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const i64 r = i / K, k = i % K;
        const float v = x[i];
        const u16 b0 = f32_to_bf16(v);
        const float r1 = v - bf16_to_f32(b0);
        const u16 b1 = f32_to_bf16(r1);
        const u16 b2 = f32_to_bf16(r1 - bf16_to_f32(b1));
        y[(3 * r) * K + k] = b0;
        y[(3 * r + 1) * K + k] = b1;
        y[(3 * r + 2) * K + k] = b2;
    }
}

// ---- routing for many tokens ------------------------------------------------------------------------
// f32_moe_route (moe.cu) does everything in one block, which costs ≈ 0.3 ms at 2,048 tokens. Here the
// per-token top-k runs over many blocks and a second single-block kernel groups the assignments.

// Per token (one warp each): top-k experts by logit (descending, ties to the lower index), softmax over
// the k selected, and a global per-expert count. logits [T, E] f32, topk_idx [T·k] i32, topk_w [T·k]
// f32, counts [E] i32 (zeroed before). E <= 8·WARP, k <= WARP. grid (ceil(T / 8)), block 256.
GPTOSS_KERNEL void f32_moe_topk_many(const float *__restrict__ logits, int T, int E, int k,
                                     i32 *__restrict__ topk_idx, float *__restrict__ topk_w, i32 *__restrict__ counts) {
    const int lane = threadIdx.x % WARP;
    const int t = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (t >= T) return;
    const float *r = logits + (i64)t * E;
    float v[8];
#pragma unroll
    for (int q = 0; q < 8; q++) v[q] = (lane + q * WARP < E) ? r[lane + q * WARP] : GPTOSS_NEG_INF;
    float sum, mine;
    int myidx;
    warp_router_topk(v, E, k, lane, &myidx, &mine, &sum);
    if (lane < k) {
        topk_idx[t * k + lane] = myidx;
        topk_w[t * k + lane] = mine / sum;
        atomicAdd(&counts[myidx], 1);
    }
}

// Groups assignments a = t·k + j by expert into tiles of at most `tile`: tiles[i] = (expert, start in
// `sorted`, count), as f32_moe_route does. counts [E] from f32_moe_topk_many. grid (1), block 1024.
GPTOSS_KERNEL void f32_moe_group_many(const i32 *__restrict__ topk_idx, const i32 *__restrict__ counts, int T, int E,
                                      int k, int tile, i32 *__restrict__ sorted, i32 *__restrict__ tiles,
                                      i32 *__restrict__ num_tiles, int max_tiles) {
    __shared__ int offset[256], cursor[256];
    if (threadIdx.x == 0) {
        int off = 0, n = 0;
        for (int e = 0; e < E; e++) {
            const int c = counts[e];
            offset[e] = off;
            cursor[e] = 0;
            for (int s = 0; s < c; s += tile) {
                if (n < max_tiles) { tiles[3 * n] = e; tiles[3 * n + 1] = off + s; tiles[3 * n + 2] = min(tile, c - s); }
                n++;
            }
            off += c;
        }
        *num_tiles = min(n, max_tiles);
    }
    __syncthreads();
    for (int a = threadIdx.x; a < T * k; a += blockDim.x) {
        const int e = topk_idx[a];
        sorted[offset[e] + atomicAdd(&cursor[e], 1)] = a;
    }
}
