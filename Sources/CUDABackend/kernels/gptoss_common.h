// gptoss_common.h: the only header our kernels include (passed to NVRTC by name; no CUDA headers,
// since NVRTC from PyPI ships none). Owns: fixed-width types, the warp width, shuffles/reductions,
// bf16 and MXFP4 (e2m1 + e8m0) decoding by bit operations. A HIP port swaps this file only.
#pragma once

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef long long i64;

// Warp width: 32 on NVIDIA; AMD wavefronts are 64 (set GPTOSS_WARP=64 there).
#ifndef GPTOSS_WARP
#define GPTOSS_WARP 32
#endif
#define WARP GPTOSS_WARP

#define GPTOSS_KERNEL extern "C" __global__
#define DEVI static __device__ __forceinline__

// ---- thin intrinsic layer -------------------------------------------------------------------------
DEVI float shfl_xor(float v, int m) { return __shfl_xor_sync(0xffffffffu, v, m, WARP); }
DEVI int shfl_xor_i(int v, int m) { return __shfl_xor_sync(0xffffffffu, v, m, WARP); }
DEVI float shfl_idx(float v, int lane) { return __shfl_sync(0xffffffffu, v, lane, WARP); }
DEVI int shfl_idx_i(int v, int lane) { return __shfl_sync(0xffffffffu, v, lane, WARP); }

DEVI float warp_sum(float v) {
#pragma unroll
    for (int m = WARP / 2; m > 0; m >>= 1) v += shfl_xor(v, m);
    return v;
}
DEVI float warp_max(float v) {
#pragma unroll
    for (int m = WARP / 2; m > 0; m >>= 1) v = fmaxf(v, shfl_xor(v, m));
    return v;
}

// Block-wide sum; `scratch` holds one float per warp. All threads get the result. MAXW: the most warps a
// caller's blocks have (the final sum is unrolled to it).
template <int MAXW = 1024 / WARP>
DEVI float block_sum(float v, float *scratch) {
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP, nw = (blockDim.x + WARP - 1) / WARP;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = 0.f;
#pragma unroll
    for (int i = 0; i < MAXW; i++)   // fixed trip count, predicated: the loads issue together (same order)
        if (i < nw) t += scratch[i];
    return t;
}

DEVI float ld_nc(const float *p) { return __ldg(p); }
DEVI float4 ld_nc4(const float4 *p) { return __ldg(p); }
DEVI uint4 ld_nc_u4(const uint4 *p) { return __ldg(p); }
// Streaming 16-byte weight load: read once per step, do not keep in L1.
DEVI uint4 ld_stream_u4(const uint4 *p) {
    uint4 r;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w) : "l"(p));
    return r;
}

// ---- number formats --------------------------------------------------------------------------------
DEVI float bf16_lo(u32 w) { return __uint_as_float(w << 16); }          // element 2i of a packed pair
DEVI float bf16_hi(u32 w) { return __uint_as_float(w & 0xffff0000u); }  // element 2i+1
DEVI float bf16_to_f32(u16 h) { return __uint_as_float(((u32)h) << 16); }
// Round-to-nearest-even f32 -> bf16 (NaN kept quiet).
DEVI u16 f32_to_bf16(float f) {
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u16)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (u16)(u >> 16);
}

// E8M0 block scale 2^(s-127) as an exact f32 (s = 0 gives the subnormal 2^-127; s = 255 gives inf).
DEVI float e8m0_to_f32(u32 s) {
    if (s == 0) return __uint_as_float(0x00400000u);
    if (s == 255) return __uint_as_float(0x7f800000u);
    return __uint_as_float(s << 23);
}

// Two f32 → an f16 pair (round to nearest even), lo in the low half.
DEVI u32 f16x2_rn(float lo, float hi) {
    u32 r;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}
DEVI void f16x2_to_f32(u32 v, float &lo, float &hi) {
    asm("{.reg .f16 l, h;\n mov.b32 {l, h}, %2;\n cvt.f32.f16 %0, l;\n cvt.f32.f16 %1, h;}" : "=f"(lo), "=f"(hi) : "r"(v));
}
DEVI u32 prmt(u32 a, u32 b, u32 sel) {
    u32 r;
    asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(sel));
    return r;
}
// One MXFP4 code word (8 E2M1 codes; byte q holds element 2q in its low nibble, 2q + 1 in its high one) as four
// exact f16 pairs of value·2^-14 (e = 0 is the f16 subnormal), in the pair order p[0] = (e0, e2), p[1] = (e4, e6),
// p[2] = (e1, e3), p[3] = (e5, e7): the f16 of code n is a high byte (n & 8) << 4 | (n & 7) << 1 over a zero low
// byte, so the odd elements' bytes come from v in place (3 operations), the even ones' from v shifted (4), and
// each pair is one byte permute (11 operations per word). The block's E8M0 scale is applied afterwards.
DEVI void fp4_word_f16x2(u32 v, u32 (&p)[4]) {
    const u32 odd = (v & 0x80808080u) | ((v >> 3) & 0x0E0E0E0Eu);          // byte q: element 2q + 1
    const u32 even = ((v << 4) & 0x80808080u) | ((v << 1) & 0x0E0E0E0Eu);  // byte q: element 2q
    p[0] = prmt(even, 0u, 0x1404u);   // bytes (0, even.0, 0, even.1)
    p[1] = prmt(even, 0u, 0x3424u);   // (0, even.2, 0, even.3)
    p[2] = prmt(odd, 0u, 0x1404u);
    p[3] = prmt(odd, 0u, 0x3424u);
}
// c += A·B for one m16n8k16 tile with f16 operands (fragment layouts: tensor_core.h), f32 accumulation.
DEVI void mma_f16(float (&c)[4], u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// FP4 E2M1 code -> value, through a 16-entry table the kernel keeps in shared memory
// (16 distinct words in 16 banks: conflict-free for any mix of codes in a warp).
#define GPTOSS_FP4_TABLE_INIT {0.f, .5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f, -0.f, -.5f, -1.f, -1.5f, -2.f, -3.f, -4.f, -6.f}
DEVI void fp4_table_fill(float *t) {
    const float v[16] = GPTOSS_FP4_TABLE_INIT;
    if (threadIdx.x < 16) t[threadIdx.x] = v[threadIdx.x];
}

#define GPTOSS_NEG_INF __int_as_float(0xff800000)

// gpt-oss's clamped SwiGLU of one unit's gate and up (biases included): gate ≤ limit, |up| ≤ limit (spec §3.5).
DEVI float swiglu(float gate, float up, float limit, float alpha) {
    gate = fminf(gate, limit);
    up = fminf(fmaxf(up, -limit), limit);
    return gate / (1.f + expf(-alpha * gate)) * (up + 1.f);
}

// Router top-k for one token by one warp (spec §3.5): v[q] holds the logit of expert lane + q·WARP
// (−inf past E, so E ≤ 8·WARP), k ≤ WARP. Picks the k largest, ties to the lower expert index, and
// the softmax over the picks only. Lane j < k gets the j-th pick in *idx and its unnormalized weight
// exp(l − l_max) in *w; every lane gets the denominator in *sum (weight = *w / *sum).
DEVI void warp_router_topk(const float v[8], int E, int k, int lane, int *idx, float *w, float *sum) {
    unsigned taken = 0;  // bit q: v[q] already chosen
    float top0 = 0.f, s = 0.f, mine = 0.f;
    int myidx = 0;
    for (int j = 0; j < k; j++) {
        float bv = GPTOSS_NEG_INF;
        int bi = 0x7fffffff;
#pragma unroll
        for (int q = 0; q < 8; q++) {
            const int e = lane + q * WARP;
            if (e < E && !(taken & (1u << q)) && (bi == 0x7fffffff || v[q] > bv)) { bv = v[q]; bi = e; }
        }
#pragma unroll
        for (int m = WARP / 2; m > 0; m >>= 1) {
            const float ov = shfl_xor(bv, m);
            const int oi = shfl_xor_i(bi, m);
            if (oi != 0x7fffffff && (bi == 0x7fffffff || ov > bv || (ov == bv && oi < bi))) { bv = ov; bi = oi; }
        }
        if (bi % WARP == lane) taken |= 1u << (bi / WARP);
        if (j == 0) top0 = bv;
        const float ex = expf(bv - top0);
        s += ex;
        if (lane == j) { mine = ex; myidx = bi; }
    }
    *idx = myidx; *w = mine; *sum = s;
}

// ---- attention ------------------------------------------------------------------------------------
// One key tile of online softmax for the query head a warp owns (shared by f32_attention_sinks and
// dec_attention): qh [d] the query, ks [n, d + 1] the keys (padded rows), vs [n, d] the values; lane j < n
// scores key j. Updates the running max m, normalizer l and the lane-strided output o (dims lane,
// lane + 32, ...) in place. MAXD: the head_dim limit the caller sized o for.
template <int MAXD>
DEVI void softmax_tile(const float *qh, const float *ks, const float *vs, int n, int d, float scale, int lane,
                       float &m, float &l, float (&o)[MAXD / WARP]) {
    float sc = GPTOSS_NEG_INF;
    if (lane < n) {
        const float *kr = ks + lane * (d + 1);
        float dot = 0.f;
        for (int c = 0; c < d; c++) dot = fmaf(qh[c], kr[c], dot);
        sc = dot * scale;
    }
    const float mnew = fmaxf(m, warp_max(sc));
    const float corr = expf(m - mnew);   // m = -inf, mnew finite -> 0
    const float p = lane < n ? expf(sc - mnew) : 0.f;
    l = l * corr + warp_sum(p);
#pragma unroll
    for (int j = 0; j < MAXD / WARP; j++) o[j] *= corr;
    for (int j = 0; j < n; j++) {
        const float pj = shfl_idx(p, j);
#pragma unroll
        for (int jd = 0; jd < MAXD / WARP; jd++) {
            const int c = lane + jd * WARP;
            if (c < d) o[jd] = fmaf(pj, vs[j * d + c], o[jd]);
        }
    }
    m = mnew;
}
