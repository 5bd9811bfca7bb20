// sample.cu: choosing the next token on the GPU so only token ids come back: greedy argmax
// (lowest index wins ties) in two passes over each sequence's logits row.
#include "gptoss_common.h"

DEVI void better(float &bv, int &bi, float v, int i) {
    if (v > bv || (v == bv && i < bi)) { bv = v; bi = i; }
}

// Pass 1: logits [*, V] f32; rows [B] i32 (which logits row each sequence samples from).
// part_v/part_i [B, nchunk]. grid (nchunk, B), block 256.
GPTOSS_KERNEL void f32_argmax_partial(const float *__restrict__ logits, const i32 *__restrict__ rows, int V,
                                      float *__restrict__ part_v, i32 *__restrict__ part_i) {
    __shared__ float sv[1024 / WARP];
    __shared__ int si[1024 / WARP];
    const int c = blockIdx.x, b = blockIdx.y, nchunk = gridDim.x;
    const int per = (V + nchunk - 1) / nchunk;
    const int begin = c * per, end = min(V, begin + per);
    const float *row = logits + (i64)rows[b] * V;
    float bv = GPTOSS_NEG_INF;
    int bi = 0x7fffffff;
    for (int i = begin + threadIdx.x; i < end; i += blockDim.x) better(bv, bi, row[i], i);
#pragma unroll
    for (int m = WARP / 2; m > 0; m >>= 1) {
        const float ov = shfl_xor(bv, m);
        const int oi = shfl_xor_i(bi, m);
        better(bv, bi, ov, oi);
    }
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    if (lane == 0) { sv[warp] = bv; si[warp] = bi; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < (int)(blockDim.x / WARP); w++) better(bv, bi, sv[w], si[w]);
        part_v[b * nchunk + c] = bv;
        part_i[b * nchunk + c] = bi;
    }
}

// Pass 2: tokens[b] = argmax over the partials. grid (B), block WARP.
GPTOSS_KERNEL void f32_argmax_final(const float *__restrict__ part_v, const i32 *__restrict__ part_i, int nchunk,
                                    i32 *__restrict__ tokens) {
    const int b = blockIdx.x;
    float bv = GPTOSS_NEG_INF;
    int bi = 0x7fffffff;
    for (int c = threadIdx.x; c < nchunk; c += WARP) better(bv, bi, part_v[b * nchunk + c], part_i[b * nchunk + c]);
#pragma unroll
    for (int m = WARP / 2; m > 0; m >>= 1) {
        const float ov = shfl_xor(bv, m);
        const int oi = shfl_xor_i(bi, m);
        better(bv, bi, ov, oi);
    }
    if (threadIdx.x == 0) tokens[b] = bi == 0x7fffffff ? 0 : bi;
}
