// Shared declarations between the dispatcher and the per-ISA kernel files of CPUKernels.
#ifndef GPTOSS_CPU_KERNELS_INTERNAL_H
#define GPTOSS_CPU_KERNELS_INTERNAL_H
#include "CPUKernels.h"
#include <string.h>

/// bf16 bits → f32.
static inline float gk_bf16(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/// The 16 FP4 (E2M1) values, code order (spec §2.2).
extern const float gk_fp4_values[16];
/// E8M0 byte → 2^(s−127): 0 → 2^−127 (subnormal), 255 → +inf (as Core's MXFP4.scale).
extern float gk_e8m0[256];
/// Rows per pass of the AVX-512 bf16 decode GEMV (1, 2 or 4 far-apart rows; GPTOSS_CPU_BF16_ROWS,
/// read once by the level detection).
extern int gk_bf16_decode_rows;

#define GK_DECLARE(isa)                                                                          \
    void gk_bf16_gemm_##isa(const uint16_t *w, long ldw, int rows, int cols, const float *x,     \
                            long ldx, int ntok, const uint16_t *bias, float *out, long ldo);     \
    void gk_mxfp4_gemm_##isa(const uint8_t *blocks, const uint8_t *scales, int rows, int cols,   \
                             const float *xp, long ldx, int ntok, const uint16_t *bias,          \
                             float *out, long ldo);
GK_DECLARE(generic)
#if defined(__x86_64__)
GK_DECLARE(avx2)
GK_DECLARE(avx512)
/// Level 3 (AVX-512 VNNI) MXFP4: activations in the int8 hi/lo layout of avx512vnni.c, ldq in bytes.
long gk_mxfp4_q8_bytes(int cols);
void gk_mxfp4_quantize_vnni(const float *x, int cols, void *xq);
void gk_mxfp4_gemm_vnni(const uint8_t *blocks, const uint8_t *scales, int rows, int cols, const void *xq, long ldq,
                        int ntok, const uint16_t *bias, float *out, long ldo);
#endif
#endif
