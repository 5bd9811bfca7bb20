// CPUKernels, AVX-512 level (F/BW/VL/DQ; compiled with target attributes, called only after cpuid
// says the CPU has them). bf16 rows widen in registers (vpmovzxwd + shift); MXFP4 blocks decode with
// one 16-entry vpermps table lookup per nibble, the table pre-multiplied by the block's E8M0 scale
// (exact: the scale is a power of two). Tiles: bf16 4 rows ×
// ≤6 tokens, MXFP4 2 rows × ≤6 tokens; at decode (one token) both go one row at a time, so the weights
// stream sequentially. Every (row, token) result is computed by the same instruction sequence whatever
// the tile, so batching never changes a result.
#if defined(__x86_64__)
#include "internal.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))

INLINE __m512 bf16x16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
INLINE __m512 bf16x16_mask(const uint16_t *p, __mmask16 m) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

/// res[r·T + t] = W[r]·x[t] for an R × T tile.
INLINE void bf16_tile(const int R, const int T, const uint16_t *w, long ldw, int cols, const float *x, long ldx, float *res) {
    __m512 acc[4][6];   // fixed sizes (not VLAs) so that the inlined, unrolled tile lives in registers
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    int c = 0;
    for (; c + 16 <= cols; c += 16) {
        __m512 wv[4];
        for (int r = 0; r < R; r++) wv[r] = bf16x16(w + r * ldw + c);
        for (int t = 0; t < T; t++) {
            __m512 xv = _mm512_loadu_ps(x + t * ldx + c);
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (c < cols) {
        __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);
        __m512 wv[4];
        for (int r = 0; r < R; r++) wv[r] = bf16x16_mask(w + r * ldw + c, m);
        for (int t = 0; t < T; t++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, x + t * ldx + c);
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) res[r * T + t] = _mm512_reduce_add_ps(acc[r][t]);
}

#define BF16_TILE(R, T)                                                                                   \
    static void bf16_tile_##R##_##T(const uint16_t *w, long ldw, int cols, const float *x, long ldx, float *res) { \
        bf16_tile(R, T, w, ldw, cols, x, ldx, res);                                                       \
    }
BF16_TILE(4, 1) BF16_TILE(4, 2) BF16_TILE(4, 3) BF16_TILE(4, 4) BF16_TILE(4, 5) BF16_TILE(4, 6)
BF16_TILE(1, 1) BF16_TILE(1, 2) BF16_TILE(1, 3) BF16_TILE(1, 4) BF16_TILE(1, 5) BF16_TILE(1, 6)
/// S rows ldp apart, one token: each row's arithmetic is exactly bf16_tile(1, 1)'s (one accumulator,
/// 16-wide FMAs in column order, the same masked tail, the same final reduction).
INLINE void bf16_far(const int S, const uint16_t *w, long ldp, int cols, const float *x, float *res) {
    __m512 acc[4];
    for (int i = 0; i < S; i++) acc[i] = _mm512_setzero_ps();
    int c = 0;
    for (; c + 16 <= cols; c += 16) {
        __m512 xv = _mm512_loadu_ps(x + c);
        for (int i = 0; i < S; i++) acc[i] = _mm512_fmadd_ps(bf16x16(w + i * ldp + c), xv, acc[i]);
    }
    if (c < cols) {
        __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + c);
        for (int i = 0; i < S; i++) acc[i] = _mm512_fmadd_ps(bf16x16_mask(w + i * ldp + c, m), xv, acc[i]);
    }
    for (int i = 0; i < S; i++) res[i] = _mm512_reduce_add_ps(acc[i]);
}
static void bf16_far2(const uint16_t *w, long ldp, int cols, const float *x, float *res) { bf16_far(2, w, ldp, cols, x, res); }
static void bf16_far4(const uint16_t *w, long ldp, int cols, const float *x, float *res) { bf16_far(4, w, ldp, cols, x, res); }

typedef void (*bf16_tile_fn)(const uint16_t *, long, int, const float *, long, float *);
static const bf16_tile_fn bf16_tiles4[7] = {0, bf16_tile_4_1, bf16_tile_4_2, bf16_tile_4_3, bf16_tile_4_4, bf16_tile_4_5, bf16_tile_4_6};
static const bf16_tile_fn bf16_tiles1[7] = {0, bf16_tile_1_1, bf16_tile_1_2, bf16_tile_1_3, bf16_tile_1_4, bf16_tile_1_5, bf16_tile_1_6};

void gk_bf16_gemm_avx512(const uint16_t *w, long ldw, int rows, int cols, const float *x, long ldx, int ntok,
                         const uint16_t *bias, float *out, long ldo) {
    float res[24];
    if (ntok == 1) {
        // Decode: each row streams as one sequential read (four interleaved adjacent-row streams read
        // at about half the bandwidth on Zen 4); same arithmetic as the 4-row tiles. With
        // gk_bf16_decode_rows = S > 1, rows r + i·(rows/S), i < S, go together: S far-apart
        // sequential streams whose S independent FMA chains share the x loads (one row's single
        // accumulator chain is bound by the FMA latency, 16 weights per 4 cycles).
        int S = gk_bf16_decode_rows;
        int part = S > 1 ? rows / S : 0;
        if (part > 0) {
            for (int r = 0; r < part; r++) {
                if (S == 4) bf16_far4(w + (long)r * ldw, (long)part * ldw, cols, x, res);
                else bf16_far2(w + (long)r * ldw, (long)part * ldw, cols, x, res);
                for (int i = 0; i < S; i++) {
                    int ri = r + i * part;
                    out[ri] = res[i] + (bias ? gk_bf16(bias[ri]) : 0.0f);
                }
            }
        }
        for (int r = part * (S > 1 ? S : 0); r < rows; r++) {
            bf16_tile_1_1(w + (long)r * ldw, ldw, cols, x, ldx, res);
            out[r] = res[0] + (bias ? gk_bf16(bias[r]) : 0.0f);
        }
        return;
    }
    for (int r0 = 0; r0 < rows;) {
        int R = rows - r0 >= 4 ? 4 : 1;
        for (int t0 = 0; t0 < ntok; t0 += 6) {
            int T = ntok - t0 < 6 ? ntok - t0 : 6;
            (R == 4 ? bf16_tiles4 : bf16_tiles1)[T](w + (long)r0 * ldw, ldw, cols, x + (long)t0 * ldx, ldx, res);
            for (int r = 0; r < R; r++) {
                float b = bias ? gk_bf16(bias[r0 + r]) : 0.0f;
                for (int t = 0; t < T; t++) out[(long)(t0 + t) * ldo + r0 + r] = res[r * T + t] + b;
            }
        }
        r0 += R;
    }
}

// MARK: MXFP4

/// One 32-value block: lo = its 16 even elements, hi = its 16 odd ones, scaled. (Multiplying the
/// table by the scale measured faster than loading one of 256 pre-scaled tables: 1.42 vs 1.67 ns per
/// block streaming from DRAM, 1.34 vs 1.59 from L2.)
INLINE void mx_block(const uint8_t *blk, uint8_t scale, __m512 *lo, __m512 *hi) {
    __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)blk));
    __m512 t = _mm512_mul_ps(_mm512_loadu_ps(gk_fp4_values), _mm512_set1_ps(gk_e8m0[scale]));
    *lo = _mm512_permutexvar_ps(b, t);                          // uses the low 4 bits of each lane
    *hi = _mm512_permutexvar_ps(_mm512_srli_epi32(b, 4), t);
}

/// R rows × T tokens. Each (row, token) keeps two accumulators, even elements and odd elements,
/// summed at the end: the same arithmetic in every tile shape, so a token's result never depends on
/// how many tokens share the call (batched steps stay bit-identical to single runs).
INLINE void mx_tile(const int R, const int T, const uint8_t *blocks, const uint8_t *scales, int nb,
                    const float *xp, long ldx, float *res) {
    __m512 al[2][6], ah[2][6];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) al[r][t] = ah[r][t] = _mm512_setzero_ps();
    for (int g = 0; g < nb; g++) {
        __m512 lo[2], hi[2];
        for (int r = 0; r < R; r++) mx_block(blocks + ((long)r * nb + g) * 16, scales[(long)r * nb + g], &lo[r], &hi[r]);
        for (int t = 0; t < T; t++) {
            __m512 xl = _mm512_loadu_ps(xp + t * ldx + g * 32), xh = _mm512_loadu_ps(xp + t * ldx + g * 32 + 16);
            for (int r = 0; r < R; r++) {
                al[r][t] = _mm512_fmadd_ps(lo[r], xl, al[r][t]);
                ah[r][t] = _mm512_fmadd_ps(hi[r], xh, ah[r][t]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) res[r * T + t] = _mm512_reduce_add_ps(_mm512_add_ps(al[r][t], ah[r][t]));
}

/// One row × one token (decode), mx_tile's arithmetic, with software prefetch 3 KiB ahead in the
/// block stream: the hardware prefetcher alone leaves this loop waiting on DRAM (one thread: 8 → 12
/// GB/s, the in-cache rate; two threads: 1 KiB ahead 19–20 GB/s, 2–4 KiB 21.5–22.7, 2026-11-27).
static void mx_row1(const uint8_t *blocks, const uint8_t *scales, int nb, const float *xp, long ldx, float *res) {
    (void)ldx;
    __m512 al = _mm512_setzero_ps(), ah = _mm512_setzero_ps();
    for (int g = 0; g < nb; g++) {
        if ((g & 3) == 0) _mm_prefetch((const char *)(blocks + g * 16) + 3072, _MM_HINT_T0);
        __m512 lo, hi;
        mx_block(blocks + g * 16, scales[g], &lo, &hi);
        al = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xp + g * 32), al);
        ah = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xp + g * 32 + 16), ah);
    }
    res[0] = _mm512_reduce_add_ps(_mm512_add_ps(al, ah));
}

#define MX_TILE(R, T)                                                                                   \
    static void mx_tile_##R##_##T(const uint8_t *b, const uint8_t *s, int nb, const float *xp, long ldx, float *res) { \
        mx_tile(R, T, b, s, nb, xp, ldx, res);                                                          \
    }
MX_TILE(2, 1) MX_TILE(2, 2) MX_TILE(2, 3) MX_TILE(2, 4) MX_TILE(2, 5) MX_TILE(2, 6)
MX_TILE(1, 1) MX_TILE(1, 2) MX_TILE(1, 3) MX_TILE(1, 4) MX_TILE(1, 5) MX_TILE(1, 6)
typedef void (*mx_tile_fn)(const uint8_t *, const uint8_t *, int, const float *, long, float *);
static const mx_tile_fn mx_tiles2[7] = {0, mx_tile_2_1, mx_tile_2_2, mx_tile_2_3, mx_tile_2_4, mx_tile_2_5, mx_tile_2_6};
static const mx_tile_fn mx_tiles1[7] = {0, mx_tile_1_1, mx_tile_1_2, mx_tile_1_3, mx_tile_1_4, mx_tile_1_5, mx_tile_1_6};

void gk_mxfp4_gemm_avx512(const uint8_t *blocks, const uint8_t *scales, int rows, int cols, const float *xp, long ldx,
                          int ntok, const uint16_t *bias, float *out, long ldo) {
    const int nb = cols / 32;
    float res[12];
    for (int r0 = 0; r0 < rows;) {
        // Decode (one token): one row at a time, a single sequential weight stream.
        int R = rows - r0 >= 2 && ntok > 1 ? 2 : 1;
        for (int t0 = 0; t0 < ntok; t0 += 6) {
            int T = ntok - t0 < 6 ? ntok - t0 : 6;
            mx_tile_fn tile = ntok == 1 ? mx_row1 : (R == 2 ? mx_tiles2 : mx_tiles1)[T];
            tile(blocks + (long)r0 * nb * 16, scales + (long)r0 * nb, nb, xp + (long)t0 * ldx, ldx, res);
            for (int r = 0; r < R; r++) {
                float b = bias ? gk_bf16(bias[r0 + r]) : 0.0f;
                for (int t = 0; t < T; t++) out[(long)(t0 + t) * ldo + r0 + r] = res[r * T + t] + b;
            }
        }
        r0 += R;
    }
}

#pragma clang attribute pop
#endif
