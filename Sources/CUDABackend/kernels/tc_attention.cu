// tc_attention.cu: prefill attention on tensor cores (flash-attention style) with per-head sinks, the
// sliding window, GQA and causal masking (spec §3.4), for head_dim 64. Keys and values come from the
// f32 KV cache (already holding this step's rows) and are rounded to bf16 in shared memory; Q and the
// probabilities P enter the mma as bf16; scores, softmax and accumulators stay f32.
#include "tensor_core.h"

#define TA_D 64     // head_dim
#define TA_BQ 16    // query positions per block (one mma row tile)
#define TA_BK 64    // keys per shared-memory tile
#define TA_LDS 72   // shared row stride in bf16 (144 B): ldmatrix rows hit distinct bank groups
#define TA_LOG2E 1.4426950408889634f

// One block per (query tile, KV head g); warp w handles query head g·G + w for the tile's ≤ 16
// positions, all warps sharing the K/V tiles. Online softmax in base 2 that starts from the sink:
// running max = sink, running sum = 1 (counted in one lane of each row's quad), accumulator = 0.
// q [T, ldq] f32 (RoPE applied; head i at column i·64), kc/vc this layer's caches [slots, ctx, nKV·64]
// f32, sinks [nH] bf16, qtiles [n, 2] i32: (first row, rows ≤ 16) of one sequence at consecutive
// positions, out [T, nH·64] f32. window = 0: causal; > 0: keys u with pos − window < u ≤ pos.
// grid (n, nKV), block (nH / nKV)·32 ≤ 256.
GPTOSS_KERNEL void __launch_bounds__(256) bf16_attention_sinks_tc(
    const float *__restrict__ q, int ldq, const float *__restrict__ kc, const float *__restrict__ vc,
    const u16 *__restrict__ sinks, const i32 *__restrict__ row_pos, const i32 *__restrict__ row_slot,
    const i32 *__restrict__ qtiles, float *__restrict__ out, int nH, int nKV, int ctx, int window, float scale) {
    __shared__ __align__(16) u16 Ks[TA_BK * TA_LDS];
    __shared__ __align__(16) u16 Vs[TA_BK * TA_LDS];
    const int g = blockIdx.y, G = nH / nKV;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, head = g * G + w;
    const int t0 = qtiles[2 * blockIdx.x], cnt = qtiles[2 * blockIdx.x + 1];
    const int p0 = row_pos[t0], slot = row_slot[t0], phi = p0 + cnt - 1;
    const int lo = window > 0 ? max(0, p0 - window + 1) : 0;
    const int kvw = nKV * TA_D;
    const float *kbase = kc + (i64)slot * ctx * kvw + g * TA_D;
    const float *vbase = vc + (i64)slot * ctx * kvw + g * TA_D;
    // This thread's two rows (quad row g4 and g4 + 8); rows past cnt repeat the last one (not stored).
    const int g4 = lane >> 2, q4 = lane & 3;
    const int ra = min(g4, cnt - 1), rb = min(g4 + 8, cnt - 1);
    const int posa = p0 + ra, posb = p0 + rb;
    u32 qf[4][4];
    {
        const float *qa = q + (i64)(t0 + ra) * ldq + head * TA_D, *qb = q + (i64)(t0 + rb) * ldq + head * TA_D;
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
            const int dd = kk * 16 + q4 * 2;
            qf[kk][0] = pack_bf16(qa[dd], qa[dd + 1]);
            qf[kk][1] = pack_bf16(qb[dd], qb[dd + 1]);
            qf[kk][2] = pack_bf16(qa[dd + 8], qa[dd + 9]);
            qf[kk][3] = pack_bf16(qb[dd + 8], qb[dd + 9]);
        }
    }
    const float sl2 = scale * TA_LOG2E;
    const float sink = bf16_to_f32(sinks[head]) * TA_LOG2E;
    float m[2] = {sink, sink};
    float l[2] = {q4 == 0 ? 1.f : 0.f, q4 == 0 ? 1.f : 0.f};
    float o[8][4];
#pragma unroll
    for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int j = 0; j < 4; j++) o[nt][j] = 0.f;

    for (int u0 = lo; u0 <= phi; u0 += TA_BK) {
        __syncthreads();  // everyone is done with the previous tile
        for (int i = threadIdx.x; i < TA_BK * (TA_D / 4); i += blockDim.x) {
            const int j = i / (TA_D / 4), c = (i % (TA_D / 4)) * 4, u = u0 + j;
            float4 kv = make_float4(0.f, 0.f, 0.f, 0.f), vv = kv;  // keys past the tile's last row: zeros
            if (u <= phi) {
                kv = *(const float4 *)(kbase + (i64)u * kvw + c);
                vv = *(const float4 *)(vbase + (i64)u * kvw + c);
            }
            *(uint2 *)&Ks[j * TA_LDS + c] = make_uint2(pack_bf16(kv.x, kv.y), pack_bf16(kv.z, kv.w));
            *(uint2 *)&Vs[j * TA_LDS + c] = make_uint2(pack_bf16(vv.x, vv.y), pack_bf16(vv.z, vv.w));
        }
        __syncthreads();
        // S = Q·Kᵀ: 16 rows × 64 keys.
        float s[8][4];
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
#pragma unroll
            for (int j = 0; j < 4; j++) s[nt][j] = 0.f;
#pragma unroll
        for (int kk = 0; kk < 4; kk++)
#pragma unroll
            for (int np = 0; np < 4; np++) {
                u32 b0, b1, b2, b3;
                ldmatrix_x4(b0, b1, b2, b3,
                            smem_addr(Ks + (np * 16 + (lane & 7) + (lane >> 4) * 8) * TA_LDS + kk * 16 + ((lane >> 3) & 1) * 8));
                mma_bf16(s[2 * np], qf[kk], b0, b1);
                mma_bf16(s[2 * np + 1], qf[kk], b2, b3);
            }
        // Mask, scale to base 2, new running max per row.
        float mx[2] = {m[0], m[1]};
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int u = u0 + nt * 8 + q4 * 2 + (j & 1);
                const int pos = (j >> 1) ? posb : posa;
                const bool ok = u <= pos && (window == 0 || u > pos - window);
                s[nt][j] = ok ? s[nt][j] * sl2 : GPTOSS_NEG_INF;
                mx[j >> 1] = fmaxf(mx[j >> 1], s[nt][j]);
            }
#pragma unroll
        for (int h = 0; h < 2; h++) {
            mx[h] = fmaxf(mx[h], shfl_xor(mx[h], 1));
            mx[h] = fmaxf(mx[h], shfl_xor(mx[h], 2));
            const float corr = exp2f(m[h] - mx[h]);
            m[h] = mx[h];
            l[h] *= corr;
#pragma unroll
            for (int nt = 0; nt < 8; nt++) { o[nt][2 * h] *= corr; o[nt][2 * h + 1] *= corr; }
        }
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const float p = exp2f(s[nt][j] - m[j >> 1]);  // masked: exp2(−inf) = 0
                s[nt][j] = p;
                l[j >> 1] += p;
            }
        // O += P·V: the score tile's C layout is the A layout of the next mma (keys as k).
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
            u32 a[4];
            a[0] = pack_bf16(s[2 * kk][0], s[2 * kk][1]);
            a[1] = pack_bf16(s[2 * kk][2], s[2 * kk][3]);
            a[2] = pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);
            a[3] = pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
            for (int dp = 0; dp < 4; dp++) {
                u32 b0, b1, b2, b3;
                ldmatrix_x4_trans(b0, b1, b2, b3,
                                  smem_addr(Vs + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * TA_LDS + dp * 16 + (lane >> 4) * 8));
                mma_bf16(o[2 * dp], a, b0, b1);
                mma_bf16(o[2 * dp + 1], a, b2, b3);
            }
        }
    }
#pragma unroll
    for (int h = 0; h < 2; h++) {
        l[h] += shfl_xor(l[h], 1);
        l[h] += shfl_xor(l[h], 2);
    }
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int r = g4 + 8 * h;
        if (r >= cnt) continue;
        const float inv = 1.f / l[h];
        float *dst = out + (i64)(t0 + r) * nH * TA_D + (i64)head * TA_D;
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
            *(float2 *)(dst + nt * 8 + q4 * 2) = make_float2(o[nt][2 * h] * inv, o[nt][2 * h + 1] * inv);
    }
}
