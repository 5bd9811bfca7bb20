// rope.cu: YaRN RoPE (spec §3.4, half-split convention) on q and k of the fused QKV output, and the
// KV-cache write (k after RoPE, v as is) at each row's (slot, absolute position).
#include "gptoss_common.h"

// qkv [T, (nH + 2·nKV)·d] f32 (q heads, then k heads, then v heads); q is rotated in place.
// kc, vc: this layer's caches [slots, ctx, nKV·d] f32. inv_freq [d/2] f32 (YaRN f_j), mscale m.
// C_j = m·cos(p·f_j), S_j = m·sin(p·f_j), with the angle rounded to f32 first.
// grid (T), block 256.
GPTOSS_KERNEL void f32_rope_kv_write(float *__restrict__ qkv, const float *__restrict__ inv_freq,
                                     float *__restrict__ kc, float *__restrict__ vc,
                                     const i32 *__restrict__ row_pos, const i32 *__restrict__ row_slot,
                                     int nH, int nKV, int d, int ctx, float mscale) {
    const int t = blockIdx.x;
    const int pos = row_pos[t], slot = row_slot[t];
    const int half = d / 2, qkvw = (nH + 2 * nKV) * d, kvw = nKV * d;
    float *row = qkv + (i64)t * qkvw;
    float *kdst = kc + ((i64)slot * ctx + pos) * kvw;
    float *vdst = vc + ((i64)slot * ctx + pos) * kvw;
    for (int idx = threadIdx.x; idx < (nH + nKV) * half; idx += blockDim.x) {
        const int h = idx / half, j = idx % half;
        const float angle = (float)pos * inv_freq[j];
        const float c = mscale * cosf(angle), s = mscale * sinf(angle);
        const float x1 = row[h * d + j], x2 = row[h * d + j + half];
        const float y1 = x1 * c - x2 * s, y2 = x2 * c + x1 * s;
        if (h < nH) {
            row[h * d + j] = y1; row[h * d + j + half] = y2;
        } else {
            const int g = h - nH;
            kdst[g * d + j] = y1; kdst[g * d + j + half] = y2;
        }
    }
    const float *v = row + (nH + nKV) * d;
    for (int i = threadIdx.x; i < kvw; i += blockDim.x) vdst[i] = v[i];
}
