// moe.cu: the MoE block (spec §3.5) on MXFP4 experts kept packed (§2.2): router top-k + softmax and
// grouping of (token, k) assignments by expert, gate_up with the clamped SwiGLU, down, and the
// weighted combine into the residual stream.
#include "gptoss_common.h"

// Router: logits [T, E] f32 (bias already added). Per token: top-k experts by logit (descending, ties
// to the lower index), softmax over the k selected logits. Then assignments a = t·k + j are grouped
// by expert into tiles of at most `tile` assignments: tiles[i] = (expert, start in `sorted`, count).
// topk_idx [T·k] i32, topk_w [T·k] f32, sorted [T·k] i32, tiles [max_tiles·3] i32, num_tiles [1] i32.
// grid (1), block 1024. E <= 256, k <= 8, k <= WARP.
GPTOSS_KERNEL void f32_moe_route(const float *__restrict__ logits, int T, int E, int k, int tile,
                                 i32 *__restrict__ topk_idx, float *__restrict__ topk_w,
                                 i32 *__restrict__ sorted, i32 *__restrict__ tiles, i32 *__restrict__ num_tiles,
                                 int max_tiles) {
    __shared__ int count[256], offset[256], cursor[256];
    for (int e = threadIdx.x; e < E; e += blockDim.x) { count[e] = 0; cursor[e] = 0; }
    __syncthreads();
    // One warp per token: each lane holds logits e = lane, lane + WARP, ... (E <= 8·WARP); k rounds of a
    // warp arg-max (ties to the lower index) pick the experts in descending order.
    const int lane = threadIdx.x % WARP, nwarps = blockDim.x / WARP;
    for (int t = threadIdx.x / WARP; t < T; t += nwarps) {
        const float *r = logits + (i64)t * E;
        float v[8];
#pragma unroll
        for (int q = 0; q < 8; q++) v[q] = (lane + q * WARP < E) ? r[lane + q * WARP] : GPTOSS_NEG_INF;
        float sum, mine;
        int myidx;
        warp_router_topk(v, E, k, lane, &myidx, &mine, &sum);
        if (lane < k) {
            topk_idx[t * k + lane] = myidx;
            topk_w[t * k + lane] = mine / sum;
            atomicAdd(&count[myidx], 1);
        }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        int off = 0, n = 0;
        for (int e = 0; e < E; e++) {
            offset[e] = off;
            for (int s = 0; s < count[e]; s += tile) {
                if (n < max_tiles) { tiles[3 * n] = e; tiles[3 * n + 1] = off + s; tiles[3 * n + 2] = min(tile, count[e] - s); }
                n++;
            }
            off += count[e];
        }
        *num_tiles = min(n, max_tiles);
    }
    __syncthreads();
    for (int a = threadIdx.x; a < T * k; a += blockDim.x) {
        const int e = topk_idx[a];
        sorted[offset[e] + atomicAdd(&cursor[e], 1)] = a;
    }
}

// Σ over 8 consecutive elements: fp4 codes in one word (element 2j low nibble of byte j), x as 2 float4.
DEVI float fp4x8_dot(const u32 v, const float4 a, const float4 b, const float *lut) {
    float s = lut[v & 15] * a.x;
    s = fmaf(lut[(v >> 4) & 15], a.y, s);
    s = fmaf(lut[(v >> 8) & 15], a.z, s);
    s = fmaf(lut[(v >> 12) & 15], a.w, s);
    s = fmaf(lut[(v >> 16) & 15], b.x, s);
    s = fmaf(lut[(v >> 20) & 15], b.y, s);
    s = fmaf(lut[(v >> 24) & 15], b.z, s);
    s = fmaf(lut[v >> 28], b.w, s);
    return s;
}

DEVI u32 ld_stream_u32(const u32 *p) {
    u32 r;
    asm volatile("ld.global.nc.L1::no_allocate.u32 %0, [%1];" : "=r"(r) : "l"(p));
    return r;
}

// Shared body: one warp computes ROWS rows of expert e's MXFP4 matrix [R, K] for up to TB assignments
// of one tile. Lane i takes 8-element chunks i, i + WARP, ...: 4 code bytes per row (coalesced across
// the warp) and 32 contiguous bytes of x (so the warp's x reads are contiguous too), the scale byte of
// the chunk's 32-element block. Returns the dot products in acc (in every lane, after warp_sum).
template <int ROWS, int TB>
DEVI void mf4_rows(const float *__restrict__ x, int xrow_div, const u8 *__restrict__ blocks,
                   const u8 *__restrict__ scales, int e, int R, int K, int row0, const i32 *__restrict__ asg,
                   int count, const float *lut, float acc[ROWS][TB]) {
    const int lane = threadIdx.x % WARP;
    const int nc = K / 8;
#pragma unroll
    for (int r = 0; r < ROWS; r++)
#pragma unroll
        for (int tt = 0; tt < TB; tt++) acc[r][tt] = 0.f;
    int xrow[TB];
#pragma unroll
    for (int tt = 0; tt < TB; tt++) xrow[tt] = tt < count ? asg[tt] / xrow_div : 0;
    const u32 *codes[ROWS];
    const u8 *scl[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        const i64 rr = (i64)e * R + row0 + min(r, R - 1 - row0);
        codes[r] = (const u32 *)(blocks + rr * (K / 2));
        scl[r] = scales + rr * (K / 32);
    }
#pragma unroll 2
    for (int c = lane; c < nc; c += WARP) {
        u32 wq[ROWS];
        float sc[ROWS];
#pragma unroll
        for (int r = 0; r < ROWS; r++) { wq[r] = ld_stream_u32(codes[r] + c); sc[r] = e8m0_to_f32(scl[r][c >> 2]); }
#pragma unroll
        for (int tt = 0; tt < TB; tt++) {
            if (tt < count) {
                const float4 *xp = (const float4 *)(x + (i64)xrow[tt] * K) + 2 * c;
                const float4 a = ld_nc4(xp), b = ld_nc4(xp + 1);
#pragma unroll
                for (int r = 0; r < ROWS; r++) acc[r][tt] = fmaf(fp4x8_dot(wq[r], a, b, lut), sc[r], acc[r][tt]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++)
#pragma unroll
        for (int tt = 0; tt < TB; tt++) acc[r][tt] = warp_sum(acc[r][tt]);
}

// gate_up + clamped SwiGLU: for each assignment a = t·k + j of the tile (expert e):
//   u = W1_e·z[t] + b1_e (rows interleaved: 2i gate, 2i+1 up), gate = min(u[2i], limit),
//   up = clamp(u[2i+1], −limit, limit), act[a, i] = gate·σ(alpha·gate)·(up + 1).
// z [T, H] f32, blocks [E, 2I, H/32, 16] u8, scales [E, 2I, H/32] u8, bias [E, 2I] bf16, act [T·k, I] f32.
// grid (ceil(I / (8·UNITS)), max_tiles), block 256: each warp does UNITS units (2·UNITS rows).
template <int TB>
DEVI void moe_gate_up(const float *z, const u8 *blocks, const u8 *scales, const u16 *bias, const i32 *sorted,
                      const i32 *tiles, const i32 *num_tiles, float *act, int H, int I, int k, float limit,
                      float alpha) {
    constexpr int UNITS = 2;
    __shared__ float lut[16];
    fp4_table_fill(lut);
    __syncthreads();
    if ((int)blockIdx.y >= *num_tiles) return;
    const int e = tiles[3 * blockIdx.y], start = tiles[3 * blockIdx.y + 1], count = tiles[3 * blockIdx.y + 2];
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    const int unit0 = (blockIdx.x * (blockDim.x / WARP) + warp) * UNITS;
    if (unit0 >= I) return;
    float acc[2 * UNITS][TB];
    mf4_rows<2 * UNITS, TB>(z, k, blocks, scales, e, 2 * I, H, 2 * unit0, sorted + start, count, lut, acc);
    if (lane != 0) return;
#pragma unroll
    for (int u = 0; u < UNITS; u++) {
        const int unit = unit0 + u;
        if (unit >= I) break;
        const float bg = bf16_to_f32(bias[(i64)e * 2 * I + 2 * unit]);
        const float bu = bf16_to_f32(bias[(i64)e * 2 * I + 2 * unit + 1]);
#pragma unroll
        for (int tt = 0; tt < TB; tt++) {
            if (tt < count) {
                act[(i64)sorted[start + tt] * I + unit] = swiglu(acc[2 * u][tt] + bg, acc[2 * u + 1][tt] + bu, limit, alpha);
            }
        }
    }
}

GPTOSS_KERNEL void f32_mf4w_moe_gate_up_swiglu_t1(const float *z, const u8 *blocks, const u8 *scales, const u16 *bias,
                                                  const i32 *sorted, const i32 *tiles, const i32 *num_tiles, float *act,
                                                  int H, int I, int k, float limit, float alpha) {
    moe_gate_up<1>(z, blocks, scales, bias, sorted, tiles, num_tiles, act, H, I, k, limit, alpha);
}
GPTOSS_KERNEL void f32_mf4w_moe_gate_up_swiglu_t8(const float *z, const u8 *blocks, const u8 *scales, const u16 *bias,
                                                  const i32 *sorted, const i32 *tiles, const i32 *num_tiles, float *act,
                                                  int H, int I, int k, float limit, float alpha) {
    moe_gate_up<8>(z, blocks, scales, bias, sorted, tiles, num_tiles, act, H, I, k, limit, alpha);
}

// down: y[a, :] = W2_e·act[a] + b2_e for each assignment a of the tile.
// act [T·k, I] f32, blocks [E, H, I/32, 16], scales [E, H, I/32], bias [E, H] bf16, y [T·k, H] f32.
// grid (ceil(H / (8·ROWS)), max_tiles), block 256.
template <int TB>
DEVI void moe_down(const float *act, const u8 *blocks, const u8 *scales, const u16 *bias, const i32 *sorted,
                   const i32 *tiles, const i32 *num_tiles, float *y, int H, int I) {
    constexpr int ROWS = 4;
    __shared__ float lut[16];
    fp4_table_fill(lut);
    __syncthreads();
    if ((int)blockIdx.y >= *num_tiles) return;
    const int e = tiles[3 * blockIdx.y], start = tiles[3 * blockIdx.y + 1], count = tiles[3 * blockIdx.y + 2];
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    const int row0 = (blockIdx.x * (blockDim.x / WARP) + warp) * ROWS;
    if (row0 >= H) return;
    float acc[ROWS][TB];
    mf4_rows<ROWS, TB>(act, 1, blocks, scales, e, H, I, row0, sorted + start, count, lut, acc);
    if (lane != 0) return;
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        const int row = row0 + r;
        if (row >= H) break;
        const float b = bf16_to_f32(bias[(i64)e * H + row]);
#pragma unroll
        for (int tt = 0; tt < TB; tt++)
            if (tt < count) y[(i64)sorted[start + tt] * H + row] = acc[r][tt] + b;
    }
}

GPTOSS_KERNEL void f32_mf4w_moe_down_t1(const float *act, const u8 *blocks, const u8 *scales, const u16 *bias,
                                        const i32 *sorted, const i32 *tiles, const i32 *num_tiles, float *y, int H, int I) {
    moe_down<1>(act, blocks, scales, bias, sorted, tiles, num_tiles, y, H, I);
}
GPTOSS_KERNEL void f32_mf4w_moe_down_t8(const float *act, const u8 *blocks, const u8 *scales, const u16 *bias,
                                        const i32 *sorted, const i32 *tiles, const i32 *num_tiles, float *y, int H, int I) {
    moe_down<8>(act, blocks, scales, bias, sorted, tiles, num_tiles, y, H, I);
}

// h[t, :] += Σ_j w[t, j]·y[t·k + j, :]      h [T, H], y [T·k, H], w [T·k]. grid (T), block 256.
GPTOSS_KERNEL void f32_moe_combine(float *__restrict__ h, const float *__restrict__ y, const float *__restrict__ w,
                                   int H, int k) {
    const int t = blockIdx.x;
    for (int i = threadIdx.x; i < H; i += blockDim.x) {
        float s = 0.f;
        for (int j = 0; j < k; j++) s = fmaf(w[t * k + j], y[((i64)t * k + j) * H + i], s);
        h[(i64)t * H + i] += s;
    }
}
