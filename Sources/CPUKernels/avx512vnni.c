// CPUKernels, AVX-512 VNNI level (level 3: the AVX-512 level plus avx512_vnni and avx512_vbmi; compiled
// with target attributes, called only after cpuid says the CPU has them). Only the MXFP4 GEMM differs from the
// AVX-512 level: its dot products run in int8 × int8 → int32 (vpdpbusd) with each activation split
// into three int8 terms, so that it keeps ≈ 24 bits, as f32 does (two terms, 16 bits, measured
// 3e-5–1.3e-4 of max|logit| on the fixtures against 1e-4 allowed; three terms match f32).
//
// Weights: E2M1 value × 2 ∈ {0, ±1, ±2, ±3, ±4, ±6, ±8, ±12} is an int8; vpdpbusd wants the weight side
// unsigned, so a 16-entry table lookup turns each nibble into w2 + 12 ∈ [0, 24] (64 nibbles per zmm:
// vpshufb after masking in the tiles; vpermb, whose index bits 4–5 pick a copy of the same 16 entries, so
// no mask, in the decode loops).
// Activations (gk_mxfp4_quantize_vnni, once per token per input vector): per 32-block b,
// s_b = max|x|/127, h = x·(127/max|x|), hi = round(h), mid = round((h − hi)·256),
// lo = round(((h − hi)·256 − mid)·256), each ∈ [−128, 127] (a 128 carries into the term above), so
// x ≈ s_b·(hi + mid/2^8 + lo/2^16) within s_b/2^17 + 2.5e-7·|x| (the second term: f32 rounding of h).
// Layout, one 512-byte chunk per 4 blocks (128 columns; the last chunk zero-padded):
//   [  0,  64) hi of the even elements: byte 16j + i = hi(x[32(4c+j) + 2i])   (matches the low nibbles)
//   [ 64, 128) hi of the odd elements:  byte 16j + i = hi(x[32(4c+j) + 2i + 1]) (the high nibbles)
//   [128, 256) mid, [256, 384) lo, same order
//   [384, 448) int32[16]: −12·(2^16·Σhi + 2^8·Σmid + Σlo) over the 4 even + 4 odd bytes of each dword
//              lane (the +12 weight offset's contribution: an accumulator that starts there is exact)
//   [448, 512) f32[16]: lane j (4 floats) = s_b·2^−17 (2^−16 for lo, 1/2 for w2 = 2w)
// and after the last chunk f32[16·⌈nb/16⌉]: s_b·2^−17 once per block (the decode loop's copy: it
// multiplies 16 blocks' scales at once and spreads them with one vpermps per chunk).
// Per chunk and dword lane the int32 result 2^16·Σw2·hi + 2^8·Σw2·mid + Σw2·lo is ≤ 8·12·(2^16·127 +
// 2^8·128 + 128) < 2^30 (partial sums may wrap; the exact result is in range, and int32 arithmetic is
// exact modulo 2^32); vcvtdq2ps rounds it once (f32), it is scaled by s_b·2^−17·2^(e−127) (exact unless
// subnormal) and accumulated with one FMA per chunk. E8M0 scale 0 counts as 0 here (2^−127 at the other
// levels: a difference below 6·2^−127·Σ|x|), 255 as +inf as everywhere.
#if defined(__x86_64__)
#include "internal.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,avx2,fma"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))

enum { CHUNK_BYTES = 512, CORR = 384, SXS = 448 };

long gk_mxfp4_q8_bytes(int cols) { return (long)((cols / 32 + 3) / 4) * CHUNK_BYTES + (long)((cols / 32 + 15) / 16) * 64; }

// MARK: activations

/// hi, mid and lo of 16 values already multiplied by 127/max|x| (|h| ≤ 127).
INLINE void split16(__m512 h, __m128i *hi8, __m128i *mid8, __m128i *lo8) {
    const __m512 k256 = _mm512_set1_ps(256.0f);
    const __m512i c128 = _mm512_set1_epi32(128), one = _mm512_set1_epi32(1), m128 = _mm512_set1_epi32(-128);
    __m512 hr = _mm512_roundscale_ps(h, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r1 = _mm512_mul_ps(_mm512_sub_ps(h, hr), k256);                     // exact
    __m512 mr = _mm512_roundscale_ps(r1, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512i hi = _mm512_cvtps_epi32(hr), mid = _mm512_cvtps_epi32(mr);
    __m512i lo = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(r1, mr), k256));  // exact, then round
    __mmask16 carry = _mm512_cmpeq_epi32_mask(lo, c128);   // lo = 128 → −128, mid + 1
    mid = _mm512_mask_add_epi32(mid, carry, mid, one);
    lo = _mm512_mask_mov_epi32(lo, carry, m128);
    carry = _mm512_cmpeq_epi32_mask(mid, c128);            // mid = 128 → −128, hi + 1 (hi < 127 then)
    hi = _mm512_mask_add_epi32(hi, carry, hi, one);
    mid = _mm512_mask_mov_epi32(mid, carry, m128);
    *hi8 = _mm512_cvtepi32_epi8(hi);
    *mid8 = _mm512_cvtepi32_epi8(mid);
    *lo8 = _mm512_cvtepi32_epi8(lo);
}

void gk_mxfp4_quantize_vnni(const float *x, int cols, void *xq) {
    const int nb = cols / 32;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i twelve = _mm512_set1_epi8(12);
    uint8_t *q = (uint8_t *)xq;
    float *sxb = (float *)(q + (long)((nb + 3) / 4) * CHUNK_BYTES);   // [16·⌈nb/16⌉] s_b·2^−17 per block
    for (int b = nb; b < (nb + 15) / 16 * 16; b++) sxb[b] = 0;
    for (int c = 0; c * 4 < nb; c++) {
        uint8_t *ch = q + (long)c * CHUNK_BYTES;
        float *sxs = (float *)(ch + SXS);
        if (nb - 4 * c < 4) memset(ch, 0, CHUNK_BYTES);
        for (int j = 0; j < 4 && 4 * c + j < nb; j++) {
            const float *xb = x + (long)(4 * c + j) * 32;
            __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
            float m = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            float s = m > 0 ? m / 127.0f * 0x1p-17f : 0.0f, inv = m > 0 ? 127.0f / m : 0.0f;
            __m512 vi = _mm512_set1_ps(inv);
            __m128i t[6];
            split16(_mm512_mul_ps(_mm512_permutex2var_ps(v0, even, v1), vi), &t[0], &t[2], &t[4]);
            split16(_mm512_mul_ps(_mm512_permutex2var_ps(v0, odd, v1), vi), &t[1], &t[3], &t[5]);
            for (int k = 0; k < 6; k++) _mm_storeu_si128((__m128i *)(ch + 64 * k + 16 * j), t[k]);
            _mm_storeu_ps(sxs + 4 * j, _mm_set1_ps(s));
            sxb[4 * c + j] = s;
        }
        __m512i a = _mm512_setzero_si512();
        for (int k = 0; k < 6; k++) {
            if (k == 2 || k == 4) a = _mm512_slli_epi32(a, 8);
            a = _mm512_dpbusd_epi32(a, twelve, _mm512_loadu_si512(ch + 64 * k));
        }
        _mm512_storeu_si512(ch + CORR, _mm512_sub_epi32(_mm512_setzero_si512(), a));
    }
}

// MARK: MXFP4 GEMM

/// The decoded weights of one chunk (4 blocks): lo/hi = the even/odd elements as w2 + 12 (u8), and
/// ws = 2^(e−127) of each block's E8M0 byte in its lane's 4 floats.
typedef struct { __m512i lo, hi; __m512 ws; } wchunk;

INLINE wchunk decode_chunk(__m512i packed, __m128i sc) {
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
    const __m512i nib = _mm512_set1_epi8(0x0F);
    // Lane j's dwords take scale byte j into their top byte (then >> 1: the f32 exponent field).
    const __m512i pick = _mm512_setr_epi32(0x00808080, 0x00808080, 0x00808080, 0x00808080,
                                           0x01808080, 0x01808080, 0x01808080, 0x01808080,
                                           0x02808080, 0x02808080, 0x02808080, 0x02808080,
                                           0x03808080, 0x03808080, 0x03808080, 0x03808080);
    wchunk w;
    w.lo = _mm512_shuffle_epi8(table, _mm512_and_si512(packed, nib));
    w.hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(packed, 4), nib));
    w.ws = _mm512_castsi512_ps(_mm512_srli_epi32(_mm512_shuffle_epi8(_mm512_broadcastd_epi32(sc), pick), 1));
    return w;
}

/// The int32 sums of one chunk: 2^16·Σw2·hi + 2^8·Σw2·mid + Σw2·lo per dword lane (mod 2^32; exact).
INLINE __m512i chunk_sums(__m512i wlo, __m512i whi, const uint8_t *xq) {
    __m512i a = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wlo, _mm512_loadu_si512(xq));
    a = _mm512_dpbusd_epi32(a, whi, _mm512_loadu_si512(xq + 64));
    __m512i b = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wlo, _mm512_loadu_si512(xq + 128));
    b = _mm512_dpbusd_epi32(b, whi, _mm512_loadu_si512(xq + 192));
    __m512i c = _mm512_dpbusd_epi32(_mm512_loadu_si512(xq + CORR), wlo, _mm512_loadu_si512(xq + 256));
    c = _mm512_dpbusd_epi32(c, whi, _mm512_loadu_si512(xq + 320));
    return _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(_mm512_slli_epi32(a, 8), b), 8), c);
}

/// One (row, token) chunk: acc += chunk_sums · 2^(e−127) · s_b·2^−17, per dword lane.
INLINE __m512 chunk_dot(wchunk w, const uint8_t *xq, __m512 acc) {
    __m512 v = _mm512_cvtepi32_ps(chunk_sums(w.lo, w.hi, xq));
    return _mm512_fmadd_ps(v, _mm512_mul_ps(w.ws, _mm512_loadu_ps((const float *)(xq + SXS))), acc);
}

INLINE wchunk load_chunk(const uint8_t *blocks, const uint8_t *scales, int c, int nb) {
    int valid = nb - 4 * c;
    if (valid >= 4) {
        uint32_t s4;
        memcpy(&s4, scales + 4 * c, 4);
        return decode_chunk(_mm512_loadu_si512(blocks + (long)c * 64), _mm_cvtsi32_si128((int)s4));
    }
    __mmask64 m = ((__mmask64)1 << (16 * valid)) - 1;   // the row's last 1–3 blocks; the rest reads as 0
    return decode_chunk(_mm512_maskz_loadu_epi8(m, blocks + (long)c * 64),
                        _mm_maskz_loadu_epi8((__mmask16)((1u << valid) - 1), scales + 4 * c));
}

/// R rows × T tokens; one accumulator per (row, token), the same instruction sequence in every tile
/// shape (batched results equal single-token ones bit for bit).
INLINE void q8_tile(const int R, const int T, const uint8_t *blocks, const uint8_t *scales, int nb,
                    const uint8_t *xq, long ldq, float *res) {
    __m512 acc[2][6];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    const int nc = (nb + 3) / 4;
    for (int c = 0; c < nc; c++) {
        wchunk w[2];
        for (int r = 0; r < R; r++) w[r] = load_chunk(blocks + (long)r * nb * 16, scales + (long)r * nb, c, nb);
        for (int t = 0; t < T; t++)
            for (int r = 0; r < R; r++) acc[r][t] = chunk_dot(w[r], xq + t * ldq + (long)c * CHUNK_BYTES, acc[r][t]);
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) res[r * T + t] = _mm512_reduce_add_ps(acc[r][t]);
}

/// Chunk c of one row × one token: chunk_dot's arithmetic with the scales taken from sc16 (16 blocks'
/// 2^(e−127)·s_b·2^−17, lanes 4k ..< 4k + 4 for this chunk). Prefetches the weight stream 3 KiB ahead
/// (as the AVX-512 level's mx_row1: the hardware prefetcher alone leaves the loop waiting on DRAM).
INLINE __m512 row1_chunk(const uint8_t *blocks, int c, int nb, const uint8_t *xq, __m512 sc16, int k, __m512 acc) {
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
    const __m512i nib = _mm512_set1_epi8(0x0F);
    _mm_prefetch((const char *)(blocks + (long)c * 64) + 3072, _MM_HINT_T0);
    int valid = nb - 4 * c;
    __m512i packed = valid >= 4 ? _mm512_loadu_si512(blocks + (long)c * 64)
                                : _mm512_maskz_loadu_epi8(((__mmask64)1 << (16 * valid)) - 1, blocks + (long)c * 64);
    (void)nib;
    __m512i lo = _mm512_permutexvar_epi8(packed, table);
    __m512i hi = _mm512_permutexvar_epi8(_mm512_srli_epi16(packed, 4), table);
    __m512 v = _mm512_cvtepi32_ps(chunk_sums(lo, hi, xq + (long)c * CHUNK_BYTES));
    __m512i idx = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), _mm512_set1_epi32(4 * k));
    return _mm512_fmadd_ps(v, _mm512_permutexvar_ps(idx, sc16), acc);
}

/// One row × one token (decode): q8_tile's arithmetic (the same products ws·s_b, taken 16 blocks at a
/// time), prefetching the weight stream 3 KiB ahead.
static void q8_row1(const uint8_t *blocks, const uint8_t *scales, int nb, const uint8_t *xq, long ldq, float *res) {
    (void)ldq;
    __m512 acc = _mm512_setzero_ps();
    const int nc = (nb + 3) / 4;
    const float *sxb = (const float *)(xq + (long)nc * CHUNK_BYTES);
    for (int g = 0; g * 16 < nb; g++) {
        int valid = nb - 16 * g;
        __m128i s16 = valid >= 16 ? _mm_loadu_si128((const __m128i *)(scales + 16 * g))
                                  : _mm_maskz_loadu_epi8((__mmask16)((1u << valid) - 1), scales + 16 * g);
        __m512 sc16 = _mm512_mul_ps(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu8_epi32(s16), 23)), _mm512_loadu_ps(sxb + 16 * g));
        int c = 4 * g;
        acc = row1_chunk(blocks, c, nb, xq, sc16, 0, acc);
        if (c + 1 < nc) acc = row1_chunk(blocks, c + 1, nb, xq, sc16, 1, acc);
        if (c + 2 < nc) acc = row1_chunk(blocks, c + 2, nb, xq, sc16, 2, acc);
        if (c + 3 < nc) acc = row1_chunk(blocks, c + 3, nb, xq, sc16, 3, acc);
    }
    res[0] = _mm512_reduce_add_ps(acc);
}

/// Two rows far apart × one token (decode): row1_chunk's arithmetic per row, sharing the activation
/// loads (which limit the one-row loop: 1.12 → 0.89–0.95 ns per 32-weight block from L2); two
/// independent sequential streams, each prefetched 3 KiB ahead (adjacent rows, i.e. interleaved
/// streams 1.4 KiB apart, measured 1.5–1.7 ns per block from DRAM against 1.05 for one row).
static void q8_pair(const uint8_t *b0, const uint8_t *s0, const uint8_t *b1, const uint8_t *s1, int nb, const uint8_t *xq, float *res) {
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const int nc = (nb + 3) / 4;
    const float *sxb = (const float *)(xq + (long)nc * CHUNK_BYTES);
    for (int g = 0; g * 16 < nb; g++) {
        int valid = nb - 16 * g;
        __mmask16 sm = valid >= 16 ? 0xFFFF : (__mmask16)((1u << valid) - 1);
        __m512 sx = _mm512_loadu_ps(sxb + 16 * g);
        __m512 sc0 = _mm512_mul_ps(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(sm, s0 + 16 * g)), 23)), sx);
        __m512 sc1 = _mm512_mul_ps(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(sm, s1 + 16 * g)), 23)), sx);
        for (int k = 0; k < 4 && 4 * g + k < nc; k++) {
            int c = 4 * g + k, vb = nb - 4 * c;
            __mmask64 m = vb >= 4 ? ~(__mmask64)0 : ((__mmask64)1 << (16 * vb)) - 1;
            _mm_prefetch((const char *)(b0 + (long)c * 64) + 3072, _MM_HINT_T0);
            _mm_prefetch((const char *)(b1 + (long)c * 64) + 3072, _MM_HINT_T0);
            __m512i p0 = _mm512_maskz_loadu_epi8(m, b0 + (long)c * 64), p1 = _mm512_maskz_loadu_epi8(m, b1 + (long)c * 64);
            __m512i lo0 = _mm512_permutexvar_epi8(p0, table), hi0 = _mm512_permutexvar_epi8(_mm512_srli_epi16(p0, 4), table);
            __m512i lo1 = _mm512_permutexvar_epi8(p1, table), hi1 = _mm512_permutexvar_epi8(_mm512_srli_epi16(p1, 4), table);
            const uint8_t *x = xq + (long)c * CHUNK_BYTES;
            __m512i xh0 = _mm512_loadu_si512(x), xh1 = _mm512_loadu_si512(x + 64), xm0 = _mm512_loadu_si512(x + 128),
                    xm1 = _mm512_loadu_si512(x + 192), xl0 = _mm512_loadu_si512(x + 256), xl1 = _mm512_loadu_si512(x + 320),
                    corr = _mm512_loadu_si512(x + CORR);
            __m512i idx = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), _mm512_set1_epi32(4 * k));
#define SUMS(lo, hi) _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(_mm512_slli_epi32(                          \
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, xh0), hi, xh1), 8),                   \
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, xm0), hi, xm1)), 8),                  \
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr, lo, xl0), hi, xl1))
            acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(SUMS(lo0, hi0)), _mm512_permutexvar_ps(idx, sc0), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(SUMS(lo1, hi1)), _mm512_permutexvar_ps(idx, sc1), acc1);
#undef SUMS
        }
    }
    res[0] = _mm512_reduce_add_ps(acc0);
    res[1] = _mm512_reduce_add_ps(acc1);
}

#define Q8_TILE(R, T)                                                                                   \
    static void q8_tile_##R##_##T(const uint8_t *b, const uint8_t *s, int nb, const uint8_t *xq, long ldq, float *res) { \
        q8_tile(R, T, b, s, nb, xq, ldq, res);                                                          \
    }
Q8_TILE(2, 1) Q8_TILE(2, 2) Q8_TILE(2, 3) Q8_TILE(2, 4) Q8_TILE(2, 5) Q8_TILE(2, 6)
Q8_TILE(1, 1) Q8_TILE(1, 2) Q8_TILE(1, 3) Q8_TILE(1, 4) Q8_TILE(1, 5) Q8_TILE(1, 6)
typedef void (*q8_tile_fn)(const uint8_t *, const uint8_t *, int, const uint8_t *, long, float *);
static const q8_tile_fn q8_tiles2[7] = {0, q8_tile_2_1, q8_tile_2_2, q8_tile_2_3, q8_tile_2_4, q8_tile_2_5, q8_tile_2_6};
static const q8_tile_fn q8_tiles1[7] = {0, q8_tile_1_1, q8_tile_1_2, q8_tile_1_3, q8_tile_1_4, q8_tile_1_5, q8_tile_1_6};

void gk_mxfp4_gemm_vnni(const uint8_t *blocks, const uint8_t *scales, int rows, int cols, const void *xq, long ldq,
                        int ntok, const uint16_t *bias, float *out, long ldo) {
    const int nb = cols / 32;
    const uint8_t *q = (const uint8_t *)xq;
    float res[12];
    if (ntok == 1) {
        // Decode: rows r and r + half together, two sequential streams sharing the activation loads.
        int half = rows / 2;
        for (int r = 0; r < half; r++) {
            q8_pair(blocks + (long)r * nb * 16, scales + (long)r * nb, blocks + (long)(r + half) * nb * 16,
                    scales + (long)(r + half) * nb, nb, q, res);
            out[r] = res[0] + (bias ? gk_bf16(bias[r]) : 0.0f);
            out[r + half] = res[1] + (bias ? gk_bf16(bias[r + half]) : 0.0f);
        }
        if (rows % 2) {
            q8_row1(blocks + (long)(rows - 1) * nb * 16, scales + (long)(rows - 1) * nb, nb, q, ldq, res);
            out[rows - 1] = res[0] + (bias ? gk_bf16(bias[rows - 1]) : 0.0f);
        }
        return;
    }
    for (int r0 = 0; r0 < rows;) {
        int R = rows - r0 >= 2 ? 2 : 1;   // ntok > 1 here: decode returned above
        for (int t0 = 0; t0 < ntok; t0 += 6) {
            int T = ntok - t0 < 6 ? ntok - t0 : 6;
            q8_tile_fn tile = (R == 2 ? q8_tiles2 : q8_tiles1)[T];
            tile(blocks + (long)r0 * nb * 16, scales + (long)r0 * nb, nb, q + t0 * ldq, ldq, res);
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
