// attention.cu: scaled dot-product attention with per-head sinks and an optional sliding window over
// the KV cache (spec §3.4), GQA: query head i reads KV head floor(i / (nH / nKV)).
#include "gptoss_common.h"

#define ATT_TILE WARP   // keys per tile: one key per lane when scoring
#define ATT_MAXD 128    // head_dim limit (lane owns dims lane, lane+WARP, ...)

// One block per (KV head g, row t); one warp per query head of the group. Online softmax that starts
// from the sink: running max = sink, running sum = 1, accumulator = 0.
// q: [T, ldq] f32 (head i at column i·d), kc/vc: [slots, ctx, nKV·d] f32 (this layer), sinks [nH] bf16,
// out [T, nH·d] f32. window = 0: full causal; > 0: keys u with pos − window < u ≤ pos.
// Several splits (grid.z) each take a contiguous key range and write partials (m, l, o) that
// f32_attention_combine merges; with nsplit == 1 the result is written directly.
// grid (nKV, T, nsplit), block (nH / nKV)·WARP, dynamic shared memory:
//   (G·d + ATT_TILE·(d+1) + ATT_TILE·d) floats.
GPTOSS_KERNEL void f32_attention_sinks(const float *__restrict__ q, int ldq, const float *__restrict__ kc,
                                       const float *__restrict__ vc, const u16 *__restrict__ sinks,
                                       const i32 *__restrict__ row_pos, const i32 *__restrict__ row_slot,
                                       float *__restrict__ out, float *__restrict__ part,
                                       int nH, int nKV, int d, int ctx, int window, float scale, int nsplit) {
    extern __shared__ float smem[];
    const int g = blockIdx.x, t = blockIdx.y, split = blockIdx.z;
    const int G = nH / nKV, lane = threadIdx.x % WARP, w = threadIdx.x / WARP;
    const int head = g * G + w, kvw = nKV * d;
    float *qs = smem;                          // [G, d]
    float *ks = qs + G * d;                    // [ATT_TILE, d + 1]
    float *vs = ks + ATT_TILE * (d + 1);       // [ATT_TILE, d]
    const int pos = row_pos[t], slot = row_slot[t];
    const int lo = window > 0 ? max(0, pos - window + 1) : 0;
    const int nkeys = pos - lo + 1;
    // This split's key range [u_begin, u_end).
    const int per = (nkeys + nsplit - 1) / nsplit;
    const int u_begin = lo + split * per, u_end = min(pos + 1, u_begin + per);
    for (int i = threadIdx.x; i < G * d; i += blockDim.x) qs[i] = q[(i64)t * ldq + (i64)g * G * d + i];
    const float *kbase = kc + (i64)slot * ctx * kvw + g * d;
    const float *vbase = vc + (i64)slot * ctx * kvw + g * d;
    const float sink = bf16_to_f32(sinks[head]);
    // A split other than the first starts empty (m = -inf, l = 0): the sink is counted once.
    float m = split == 0 ? sink : GPTOSS_NEG_INF, l = split == 0 ? 1.f : 0.f;
    float o[ATT_MAXD / WARP];
#pragma unroll
    for (int j = 0; j < ATT_MAXD / WARP; j++) o[j] = 0.f;
    for (int u0 = u_begin; u0 < u_end; u0 += ATT_TILE) {
        const int n = min(ATT_TILE, u_end - u0);
        __syncthreads();
        for (int i = threadIdx.x; i < n * d; i += blockDim.x) {
            const int j = i / d, c = i % d;
            ks[j * (d + 1) + c] = kbase[(i64)(u0 + j) * kvw + c];
            vs[j * d + c] = vbase[(i64)(u0 + j) * kvw + c];
        }
        __syncthreads();
        softmax_tile<ATT_MAXD>(qs + w * d, ks, vs, n, d, scale, lane, m, l, o);
    }
    if (nsplit == 1) {
        const float inv = 1.f / l;
        float *dst = out + (i64)t * nH * d + (i64)head * d;
#pragma unroll
        for (int jd = 0; jd < ATT_MAXD / WARP; jd++) {
            const int c = lane + jd * WARP;
            if (c < d) dst[c] = o[jd] * inv;
        }
    } else {
        // part: [T, nH, nsplit, d + 2]  (m, l, o[d])
        float *dst = part + (((i64)t * nH + head) * nsplit + split) * (d + 2);
        if (lane == 0) { dst[0] = m; dst[1] = l; }
#pragma unroll
        for (int jd = 0; jd < ATT_MAXD / WARP; jd++) {
            const int c = lane + jd * WARP;
            if (c < d) dst[2 + c] = o[jd];
        }
    }
}

// Merges split partials: out[t, head, :] = Σ_s e^{m_s − M} o_s / Σ_s e^{m_s − M} l_s.
// grid (nH, T), block WARP.
GPTOSS_KERNEL void f32_attention_combine(const float *__restrict__ part, float *__restrict__ out,
                                         int nH, int d, int nsplit) {
    const int head = blockIdx.x, t = blockIdx.y, lane = threadIdx.x;
    const float *p = part + ((i64)t * nH + head) * nsplit * (d + 2);
    float M = GPTOSS_NEG_INF;
    for (int s = 0; s < nsplit; s++) M = fmaxf(M, p[s * (d + 2)]);
    float L = 0.f;
    for (int s = 0; s < nsplit; s++) {
        const float ms = p[s * (d + 2)];
        if (ms != GPTOSS_NEG_INF) L += expf(ms - M) * p[s * (d + 2) + 1];
    }
    for (int c = lane; c < d; c += WARP) {
        float acc = 0.f;
        for (int s = 0; s < nsplit; s++) {
            const float ms = p[s * (d + 2)];
            if (ms != GPTOSS_NEG_INF) acc += expf(ms - M) * p[s * (d + 2) + 2 + c];
        }
        out[(i64)t * nH * d + (i64)head * d + c] = acc / L;
    }
}
