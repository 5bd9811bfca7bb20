// matmul.cu: f32 activations × bf16 weights [N, K] (PyTorch [out, in]) with optional bias and
// optional accumulation into the output (residual add). Used for QKV, o_proj, router and lm_head.
#include "gptoss_common.h"

// One warp computes ROWS output rows for TB tokens: each lane reads 16 bytes (8 weights) of each row
// per step, so a row is read once per TB tokens, coalesced. grid (ceil(N / (8·ROWS)), ceil(T / TB)),
// block 256 (8 warps). K % 8 == 0.
template <int ROWS, int TB>
static __device__ __forceinline__ void matmul_bf16w(const float *__restrict__ x, const u16 *__restrict__ W,
                                                    const u16 *__restrict__ bias, float *__restrict__ y,
                                                    int T, int K, int N, int ldy, int accumulate) {
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    const int row0 = (blockIdx.x * (blockDim.x / WARP) + warp) * ROWS;
    const int t0 = blockIdx.y * TB;
    if (row0 >= N) return;
    float acc[ROWS][TB];
#pragma unroll
    for (int r = 0; r < ROWS; r++)
#pragma unroll
        for (int tt = 0; tt < TB; tt++) acc[r][tt] = 0.f;
    const int K8 = K / 8;
    const uint4 *wrow[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) wrow[r] = (const uint4 *)(W + (i64)min(row0 + r, N - 1) * K);
#pragma unroll 4
    for (int i = lane; i < K8; i += WARP) {
        uint4 wv[ROWS];
#pragma unroll
        for (int r = 0; r < ROWS; r++) wv[r] = ld_stream_u4(wrow[r] + i);
#pragma unroll
        for (int tt = 0; tt < TB; tt++) {
            if (t0 + tt < T) {
                const float4 *xp = (const float4 *)(x + (i64)(t0 + tt) * K) + 2 * i;
                const float4 a = ld_nc4(xp), b = ld_nc4(xp + 1);
#pragma unroll
                for (int r = 0; r < ROWS; r++) {
                    float s = acc[r][tt];
                    s = fmaf(bf16_lo(wv[r].x), a.x, s); s = fmaf(bf16_hi(wv[r].x), a.y, s);
                    s = fmaf(bf16_lo(wv[r].y), a.z, s); s = fmaf(bf16_hi(wv[r].y), a.w, s);
                    s = fmaf(bf16_lo(wv[r].z), b.x, s); s = fmaf(bf16_hi(wv[r].z), b.y, s);
                    s = fmaf(bf16_lo(wv[r].w), b.z, s); s = fmaf(bf16_hi(wv[r].w), b.w, s);
                    acc[r][tt] = s;
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        const int row = row0 + r;
#pragma unroll
        for (int tt = 0; tt < TB; tt++) {
            float s = warp_sum(acc[r][tt]);
            if (lane == 0 && row < N && t0 + tt < T) {
                if (bias) s += bf16_to_f32(bias[row]);
                float *dst = y + (i64)(t0 + tt) * ldy + row;
                *dst = accumulate ? *dst + s : s;
            }
        }
    }
}

// y[t, r] (+)= Σ_k W[r, k]·x[t, k] + bias[r]      x [T, K] f32, W [N, K] bf16, bias [N] bf16 or null,
// y [T, ldy] f32. Variants by tokens per tile: _t1 for decode (T small), _t8 for prefill.
GPTOSS_KERNEL void f32_bf16w_matmul_bias_t1(const float *x, const u16 *W, const u16 *bias, float *y,
                                            int T, int K, int N, int ldy, int accumulate) {
    matmul_bf16w<2, 1>(x, W, bias, y, T, K, N, ldy, accumulate);
}
GPTOSS_KERNEL void f32_bf16w_matmul_bias_t4(const float *x, const u16 *W, const u16 *bias, float *y,
                                            int T, int K, int N, int ldy, int accumulate) {
    matmul_bf16w<2, 4>(x, W, bias, y, T, K, N, ldy, accumulate);
}
GPTOSS_KERNEL void f32_bf16w_matmul_bias_t8(const float *x, const u16 *W, const u16 *bias, float *y,
                                            int T, int K, int N, int ldy, int accumulate) {
    matmul_bf16w<2, 8>(x, W, bias, y, T, K, N, ldy, accumulate);
}
