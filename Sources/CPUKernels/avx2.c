// CPUKernels, AVX2 + FMA level (the x86-64-v3 hosts without AVX-512). Same contracts as avx512.c:
// bf16 widened in registers, 4 rows × ≤2 tokens; MXFP4 decoded 8 bytes at a time with an 8-entry
// magnitude table (vpermps uses 3 index bits) and the sign bit xor-ed in, 1 row × ≤4 tokens.
#if defined(__x86_64__)
#include "internal.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))

INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE __m256 bf16x8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

INLINE void bf16_tile(const int R, const int T, const uint16_t *w, long ldw, int cols, const float *x, long ldx, float *res) {
    __m256 acc[4][2];   // fixed sizes (not VLAs): the inlined tile lives in registers
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    int c = 0;
    for (; c + 8 <= cols; c += 8) {
        __m256 wv[4];
        for (int r = 0; r < R; r++) wv[r] = bf16x8(w + r * ldw + c);
        for (int t = 0; t < T; t++) {
            __m256 xv = _mm256_loadu_ps(x + t * ldx + c);
            for (int r = 0; r < R; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) {
            float s = hsum8(acc[r][t]);
            for (int cc = c; cc < cols; cc++) s += gk_bf16(w[r * ldw + cc]) * x[t * ldx + cc];
            res[r * T + t] = s;
        }
}

static void bf16_tile_4_1(const uint16_t *w, long ldw, int cols, const float *x, long ldx, float *res) { bf16_tile(4, 1, w, ldw, cols, x, ldx, res); }
static void bf16_tile_4_2(const uint16_t *w, long ldw, int cols, const float *x, long ldx, float *res) { bf16_tile(4, 2, w, ldw, cols, x, ldx, res); }
static void bf16_tile_1_1(const uint16_t *w, long ldw, int cols, const float *x, long ldx, float *res) { bf16_tile(1, 1, w, ldw, cols, x, ldx, res); }
static void bf16_tile_1_2(const uint16_t *w, long ldw, int cols, const float *x, long ldx, float *res) { bf16_tile(1, 2, w, ldw, cols, x, ldx, res); }

void gk_bf16_gemm_avx2(const uint16_t *w, long ldw, int rows, int cols, const float *x, long ldx, int ntok,
                       const uint16_t *bias, float *out, long ldo) {
    float res[8];
    for (int r0 = 0; r0 < rows;) {
        int R = rows - r0 >= 4 && ntok > 1 ? 4 : 1;   // decode: one sequential row stream
        for (int t0 = 0; t0 < ntok; t0 += 2) {
            int T = ntok - t0 < 2 ? 1 : 2;
            const uint16_t *wr = w + (long)r0 * ldw;
            const float *xt = x + (long)t0 * ldx;
            if (R == 4) (T == 2 ? bf16_tile_4_2 : bf16_tile_4_1)(wr, ldw, cols, xt, ldx, res);
            else (T == 2 ? bf16_tile_1_2 : bf16_tile_1_1)(wr, ldw, cols, xt, ldx, res);
            for (int r = 0; r < R; r++) {
                float b = bias ? gk_bf16(bias[r0 + r]) : 0.0f;
                for (int t = 0; t < T; t++) out[(long)(t0 + t) * ldo + r0 + r] = res[r * T + t] + b;
            }
        }
        r0 += R;
    }
}

// MARK: MXFP4

/// 8 bytes of a block (16 values): lo = their 8 even elements, hi = the 8 odd ones, scaled.
INLINE void mx_half(const uint8_t *p, __m256 mag, __m256 *lo, __m256 *hi) {
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    __m256i sl = _mm256_and_si256(_mm256_slli_epi32(b, 28), sign);
    __m256i sh = _mm256_and_si256(_mm256_slli_epi32(b, 24), sign);
    *lo = _mm256_xor_ps(_mm256_permutevar8x32_ps(mag, b), _mm256_castsi256_ps(sl));
    *hi = _mm256_xor_ps(_mm256_permutevar8x32_ps(mag, _mm256_srli_epi32(b, 4)), _mm256_castsi256_ps(sh));
}

INLINE void mx_tile(const int T, const uint8_t *blocks, const uint8_t *scales, int nb, const float *xp, long ldx, float *res) {
    const __m256 table = _mm256_loadu_ps(gk_fp4_values);   // the 8 magnitudes
    __m256 al[4], ah[4];
    for (int t = 0; t < T; t++) al[t] = ah[t] = _mm256_setzero_ps();
    for (int g = 0; g < nb; g++) {
        __m256 mag = _mm256_mul_ps(table, _mm256_set1_ps(gk_e8m0[scales[g]]));
        for (int h = 0; h < 2; h++) {
            __m256 lo, hi;
            mx_half(blocks + g * 16 + h * 8, mag, &lo, &hi);
            for (int t = 0; t < T; t++) {
                const float *x = xp + t * ldx + g * 32 + h * 8;
                al[t] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x), al[t]);
                ah[t] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + 16), ah[t]);
            }
        }
    }
    for (int t = 0; t < T; t++) res[t] = hsum8(_mm256_add_ps(al[t], ah[t]));
}

static void mx_tile_1(const uint8_t *b, const uint8_t *s, int nb, const float *xp, long ldx, float *res) { mx_tile(1, b, s, nb, xp, ldx, res); }
static void mx_tile_2(const uint8_t *b, const uint8_t *s, int nb, const float *xp, long ldx, float *res) { mx_tile(2, b, s, nb, xp, ldx, res); }
static void mx_tile_3(const uint8_t *b, const uint8_t *s, int nb, const float *xp, long ldx, float *res) { mx_tile(3, b, s, nb, xp, ldx, res); }
static void mx_tile_4(const uint8_t *b, const uint8_t *s, int nb, const float *xp, long ldx, float *res) { mx_tile(4, b, s, nb, xp, ldx, res); }
typedef void (*mx_tile_fn)(const uint8_t *, const uint8_t *, int, const float *, long, float *);
static const mx_tile_fn mx_tiles[5] = {0, mx_tile_1, mx_tile_2, mx_tile_3, mx_tile_4};

void gk_mxfp4_gemm_avx2(const uint8_t *blocks, const uint8_t *scales, int rows, int cols, const float *xp, long ldx,
                        int ntok, const uint16_t *bias, float *out, long ldo) {
    const int nb = cols / 32;
    float res[4];
    for (int r = 0; r < rows; r++) {
        float b = bias ? gk_bf16(bias[r]) : 0.0f;
        for (int t0 = 0; t0 < ntok; t0 += 4) {
            int T = ntok - t0 < 4 ? ntok - t0 : 4;
            mx_tiles[T](blocks + (long)r * nb * 16, scales + (long)r * nb, nb, xp + (long)t0 * ldx, ldx, res);
            for (int t = 0; t < T; t++) out[(long)(t0 + t) * ldo + r] = res[t] + b;
        }
    }
}

#pragma clang attribute pop
#endif
