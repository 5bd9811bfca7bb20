// embedding.cu: token embedding lookup (spec §3.2) and RMSNorm (§3.3).
#include "gptoss_common.h"

// out[t, :] = f32(table[tokens[t], :])          tokens [T] i32, table [V, H] bf16, out [T, H] f32
// grid (T), block 256. H % 8 == 0.
GPTOSS_KERNEL void f32_bf16w_embedding(const i32 *__restrict__ tokens, const u16 *__restrict__ table,
                                       float *__restrict__ out, int H) {
    const int t = blockIdx.x;
    const uint4 *row = (const uint4 *)(table + (i64)tokens[t] * H);
    float4 *dst = (float4 *)(out + (i64)t * H);
    for (int i = threadIdx.x; i < H / 8; i += blockDim.x) {
        uint4 w = ld_nc_u4(row + i);
        dst[2 * i] = make_float4(bf16_lo(w.x), bf16_hi(w.x), bf16_lo(w.y), bf16_hi(w.y));
        dst[2 * i + 1] = make_float4(bf16_lo(w.z), bf16_hi(w.z), bf16_lo(w.w), bf16_hi(w.w));
    }
}

// y[r, :] = w ⊙ x[src, :] / sqrt(mean(x[src, :]²) + eps), src = rows ? rows[r] : r.
// x [*, H] f32, w [H] bf16, y [R, H] f32, rows [R] i32 or null. grid (R), block 256.
GPTOSS_KERNEL void f32_bf16w_rmsnorm(const float *__restrict__ x, const u16 *__restrict__ w, float *__restrict__ y,
                                     const i32 *__restrict__ rows, int H, float eps) {
    __shared__ float scratch[1024 / WARP];
    const int r = blockIdx.x;
    const int src = rows ? rows[r] : r;
    const float *xr = x + (i64)src * H;
    float ss = 0.f;
    for (int i = threadIdx.x; i < H; i += blockDim.x) { float v = xr[i]; ss += v * v; }
    ss = block_sum(ss, scratch);
    const float inv = 1.0f / sqrtf(ss / (float)H + eps);
    float *yr = y + (i64)r * H;
    for (int i = threadIdx.x; i < H; i += blockDim.x) yr[i] = (xr[i] * inv) * bf16_to_f32(w[i]);
}
