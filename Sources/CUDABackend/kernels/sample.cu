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

// ---- temperature / top-k / top-p sampling (the rule of Core/Sampling.swift, bit for bit given the same
// expf) ---------------------------------------------------------------------------------------------------
// One block of 1024 threads per sequence; every pass re-reads the logits row (L2-resident). Weights are
// the fixed-point integers q_i = floor(expf(z_i − zmax) · 2^44) (u64), so every sum is exact and
// order-independent: the GPU and Core.Sampler make identical decisions whenever their expf agree.

// Per-sequence parameters, [B] × 32 bytes (SamplingParamsGPU in CUDABackend+Sampling.swift).
struct SampleParams {
    float temperature;  // ≤ 0: greedy, the kernel leaves tokens[b] (the argmax) alone
    float top_p;        // < 1 enables nucleus
    i32 top_k;          // > 0 enables top-k
    i32 pad;
    u64 seed;
    u64 counter;        // sample index
};

#define SMP_THREADS 1024
#define SMP_WARPS (SMP_THREADS / 32)
#define SMP_QSCALE 17592186044416.0  // 2^44

DEVI u64 shfl_xor_u64(u64 v, int m) { return __shfl_xor_sync(0xffffffffu, v, m, 32); }
DEVI u64 shfl_up_u64(u64 v, int d) { return __shfl_up_sync(0xffffffffu, v, d, 32); }
DEVI u64 warp_sum_u64(u64 v) {
#pragma unroll
    for (int m = 16; m > 0; m >>= 1) v += shfl_xor_u64(v, m);
    return v;
}
DEVI u64 warp_incl_scan_u64(u64 v) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int d = 1; d < 32; d <<= 1) {
        const u64 o = shfl_up_u64(v, d);
        if (lane >= d) v += o;
    }
    return v;
}

// z = logit / T (IEEE division), NaN → −inf, −0 → +0 (the CPU rule compares values, so ±0 are ties;
// their keys must be equal too).
DEVI float smp_z(const float *row, int i, float t) {
    const float z = __fdiv_rn(row[i], t);
    return z != z ? GPTOSS_NEG_INF : (z == 0.f ? 0.f : z);
}
// Order-preserving key of a float (ascending keys ⇔ ascending floats).
DEVI u32 smp_key(float z) {
    const u32 b = __float_as_uint(z);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
DEVI u64 smp_q(float z, float zmax) {
    const float w = expf(z - zmax);
    return (u64)((double)w * SMP_QSCALE);
}
DEVI u64 smp_mix(u64 x) {
    u64 z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}


struct SmpShared {
    u64 cs[SMP_THREADS];   // chunk sums, then inclusive prefix
    u32 hlimb[4][256];     // mass per bin as 12-bit limbs (u64 shared atomics are a CAS loop on sm_90)
    u32 hcnt[256];
    u64 wtot[SMP_WARPS];
    float fred[SMP_WARPS];
    int sel_digit;
    u32 sel_cnt_above;
    u64 sel_mass_above;
    int found;
    double theta;
};

// Mass of bin d: the limbs recombined (exact; each limb total < 2^32 for V ≤ 262,144).
DEVI u64 smp_bin_mass(const SmpShared &s, int d) {
    return (u64)s.hlimb[0][d] + ((u64)s.hlimb[1][d] << 12) + ((u64)s.hlimb[2][d] << 24) + ((u64)s.hlimb[3][d] << 36);
}
DEVI void smp_add_mass(SmpShared &s, u32 bin, u64 v) {
    const u32 l0 = (u32)(v & 0xfff), l1 = (u32)((v >> 12) & 0xfff), l2 = (u32)((v >> 24) & 0xfff), l3 = (u32)(v >> 36);
    if (l0) atomicAdd(&s.hlimb[0][bin], l0);
    if (l1) atomicAdd(&s.hlimb[1][bin], l1);
    if (l2) atomicAdd(&s.hlimb[2][bin], l2);
    if (l3) atomicAdd(&s.hlimb[3][bin], l3);
}

// Zeroes the 256 count bins and the four mass limbs of each (the block's threads share the work).
DEVI void smp_hist_clear(SmpShared &s, int tid) {
    for (int j = tid; j < 256; j += SMP_THREADS) { s.hcnt[j] = 0; s.hlimb[0][j] = s.hlimb[1][j] = s.hlimb[2][j] = s.hlimb[3][j] = 0; }
}
// Warp-convergent histogram add: every lane calls it; active lanes add 1 (and q when withMass) to
// bin `bin`. Lanes sharing a bin are combined first (one atomic per distinct bin when a warp's
// elements fall into ≤ 4 bins, as in the first radix passes where most keys share their top byte).
DEVI void smp_hist_add(SmpShared &s, bool active, u32 bin, u64 q, bool withMass) {
    const unsigned act = __ballot_sync(0xffffffffu, active);
    if (act == 0) return;
    const int lane = threadIdx.x & 31;
    unsigned grp = 0;
    if (active) grp = __match_any_sync(act, bin);
    unsigned leaders = __ballot_sync(0xffffffffu, active && lane == __ffs(grp) - 1);
    if (__popc(leaders) <= 4) {
        while (leaders) {
            const int l = __ffs(leaders) - 1;
            leaders &= leaders - 1;
            const u32 b = __shfl_sync(0xffffffffu, bin, l, 32);
            const bool in = active && bin == b;
            const unsigned inm = __ballot_sync(0xffffffffu, in);
            const u64 v = withMass ? warp_sum_u64(in ? q : 0) : 0;
            if (lane == l) {
                atomicAdd(&s.hcnt[b], (u32)__popc(inm));
                if (withMass) smp_add_mass(s, b, v);
            }
        }
    } else if (active) {
        atomicAdd(&s.hcnt[bin], 1u);
        if (withMass) smp_add_mass(s, bin, q);
    }
}

// Smallest i in [0, V) whose prefix Σ_{j ≤ i} weight(j) exceeds thr = thrOf(Σ weight) (weights u64 ≥ 0);
// V − 1 if none.
// Chunks of CH (a multiple of 32) contiguous indices, ≤ 1024 chunks; warps sum chunks, the block scans
// the chunk sums, then warp 0 walks the one chunk that crosses. Exact (integer) and deterministic.
template <typename W, typename F>
DEVI int smp_find_exceeding(SmpShared &s, int V, F thrOf, W weight) {
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int CH = 32 * ((V + 32 * SMP_THREADS - 1) / (32 * SMP_THREADS));
    const int nch = (V + CH - 1) / CH;
    for (int c = warp; c < nch; c += SMP_WARPS) {
        u64 acc = 0;
        const int end = min(V, (c + 1) * CH);
        for (int i = c * CH + lane; i < end; i += 32) acc += weight(i);
        acc = warp_sum_u64(acc);
        if (lane == 0) s.cs[c] = acc;
    }
    if (tid == 0) s.found = 0x7fffffff;
    __syncthreads();
    // Block inclusive scan of cs[0..nch).
    u64 v = tid < nch ? s.cs[tid] : 0;
    v = warp_incl_scan_u64(v);
    if (lane == 31) s.wtot[warp] = v;  // SMP_THREADS / 32 == 32 warps: wtot[31] ends as the total
    __syncthreads();
    if (warp == 0) {
        u64 t = s.wtot[lane];
        t = warp_incl_scan_u64(t);
        s.wtot[lane] = t;  // inclusive per warp
    }
    __syncthreads();
    if (warp > 0) v += s.wtot[warp - 1];
    const u64 thr = thrOf(s.wtot[31]);
    const u64 excl_chunk = v - (tid < nch ? s.cs[tid] : 0);
    if (tid < nch && v > thr && excl_chunk <= thr) s.found = tid;
    __syncthreads();
    const int c = s.found;
    int result = V - 1;
    if (c != 0x7fffffff) {
        // excl of chunk c = (inclusive of c) − cs[c]; recompute from the scan owner.
        __syncthreads();
        if (tid == c) s.wtot[0] = excl_chunk;  // reuse: base for the walk
        __syncthreads();
        if (warp == 0) {
            u64 base = s.wtot[0];
            const int end = min(V, (c + 1) * CH);
            int hit = -1;
            for (int i0 = c * CH; i0 < end && hit < 0; i0 += 32) {
                const int i = i0 + lane;
                const u64 w = i < end ? weight(i) : 0;
                const u64 inc = warp_incl_scan_u64(w);
                const unsigned ball = __ballot_sync(0xffffffffu, base + inc > thr);
                if (ball) hit = i0 + __ffs(ball) - 1;
                base += __shfl_sync(0xffffffffu, inc, 31, 32);
            }
            if (lane == 0) s.found = hit < 0 ? V - 1 : hit;
        }
        __syncthreads();
        result = s.found;
    }
    __syncthreads();
    return result;
}

// Warp 0 picks, scanning digits 255 → 0, the first non-empty digit whose cumulative count reaches
// `need` (count mode) or whose cumulative mass, added to massAbove, reaches theta (mass mode).
DEVI void smp_pick_digit(SmpShared &s, bool massMode, u32 need, u64 massAbove, double theta) {
    const int lane = threadIdx.x & 31;
    // lane l owns digits 255 − 8l … 248 − 8l (descending).
    u32 cnt = 0;
    u64 mass = 0;
    for (int j = 0; j < 8; j++) { cnt += s.hcnt[255 - 8 * lane - j]; mass += smp_bin_mass(s, 255 - 8 * lane - j); }
    u32 cinc = cnt;
    u64 minc = mass;
#pragma unroll
    for (int d = 1; d < 32; d <<= 1) {
        const u32 oc = __shfl_up_sync(0xffffffffu, cinc, d, 32);
        const u64 om = shfl_up_u64(minc, d);
        if (lane >= d) { cinc += oc; minc += om; }
    }
    const u32 cexcl = cinc - cnt;
    const u64 mexcl = minc - mass;
    const bool reach = massMode ? (double)(massAbove + minc) >= theta && cnt > 0 : cinc >= need;
    const unsigned ball = __ballot_sync(0xffffffffu, reach);
    const int owner = ball ? __ffs(ball) - 1 : 31;
    if (lane == owner) {
        u32 ca = cexcl;
        u64 ma = mexcl;
        int dsel = 255 - 8 * lane - 7;
        for (int j = 0; j < 8; j++) {
            const int dg = 255 - 8 * lane - j;
            const u32 c2 = ca + s.hcnt[dg];
            const u64 m2 = ma + smp_bin_mass(s, dg);
            const bool ok = massMode ? (s.hcnt[dg] > 0 && (double)(massAbove + m2) >= theta) : c2 >= need;
            if (ok) { dsel = dg; break; }
            ca = c2; ma = m2;
        }
        s.sel_digit = dsel;
        s.sel_cnt_above = ca;
        s.sel_mass_above = ma;
    }
}

DEVI float smp_key_float(u32 k) { return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k); }

// Optional many-block preparation, so the one-block passes below only stream precomputed values:
// prep1 writes keys [B, V] u32 (key of z) and per-block maxima part [B, gridDim.x] f32;
// prep2 reduces the maxima into zmax [B] f32 and writes q [B, V] u64. grid (nblk, B), block 256.
GPTOSS_KERNEL void f32_sample_prep1(const float *__restrict__ logits, const i32 *__restrict__ rows, int V,
                                    const SampleParams *__restrict__ params, u32 *__restrict__ keys,
                                    float *__restrict__ part) {
    __shared__ float red[8];
    const int b = blockIdx.y;
    const float t = params[b].temperature;
    if (!(t > 0.f)) return;
    const float *row = logits + (i64)rows[b] * V;
    float m = GPTOSS_NEG_INF;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < V; i += gridDim.x * blockDim.x) {
        const float z = smp_z(row, i, t);
        keys[(i64)b * V + i] = smp_key(z);
        m = fmaxf(m, z);
    }
    m = warp_max(m);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < (int)(blockDim.x >> 5); w++) m = fmaxf(m, red[w]);
        part[b * gridDim.x + blockIdx.x] = m;
    }
}

GPTOSS_KERNEL void f32_sample_prep2(int V, const SampleParams *__restrict__ params, const u32 *__restrict__ keys,
                                    const float *__restrict__ part, float *__restrict__ zmaxOut, u64 *__restrict__ qs) {
    const int b = blockIdx.y;
    if (!(params[b].temperature > 0.f)) return;
    float m = GPTOSS_NEG_INF;
    for (int j = 0; j < (int)gridDim.x; j++) m = fmaxf(m, part[b * gridDim.x + j]);
    if (blockIdx.x == 0 && threadIdx.x == 0) zmaxOut[b] = m;
    if (!(m > GPTOSS_NEG_INF && m < -GPTOSS_NEG_INF)) return;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < V; i += gridDim.x * blockDim.x)
        qs[(i64)b * V + i] = smp_q(smp_key_float(keys[(i64)b * V + i]), m);
}

// logits [*, V] f32; rows [B] i32 (logits row of each sequence); params [B]; tokens [B] i32 (holds the
// argmax already; overwritten for sequences with temperature > 0). keys/qs/zmaxIn: the prep kernels'
// output, or all null to compute everything here. grid (B), block 1024.
GPTOSS_KERNEL void __launch_bounds__(SMP_THREADS) f32_sample(const float *__restrict__ logits, const i32 *__restrict__ rows, int V,
                                                             const SampleParams *__restrict__ params, i32 *__restrict__ tokens,
                                                             const u32 *__restrict__ keys, const u64 *__restrict__ qs,
                                                             const float *__restrict__ zmaxIn) {
    __shared__ SmpShared s;
    const int b = blockIdx.x, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const SampleParams P = params[b];
    if (!(P.temperature > 0.f)) return;
    const float t = P.temperature;
    const float *row = logits + (i64)rows[b] * V;

    const bool pre = keys != nullptr;
    const u32 *krow = pre ? keys + (i64)b * V : nullptr;
    const u64 *qrow = pre ? qs + (i64)b * V : nullptr;
    // 1. zmax.
    float m = GPTOSS_NEG_INF;
    if (pre) {
        m = zmaxIn[b];
    } else {
        for (int i = tid; i < V; i += SMP_THREADS) m = fmaxf(m, smp_z(row, i, t));
        m = warp_max(m);
        if (lane == 0) s.fred[warp] = m;
        __syncthreads();
        m = GPTOSS_NEG_INF;
        for (int w = 0; w < SMP_WARPS; w++) m = fmaxf(m, s.fred[w]);
    }
    if (!(m > GPTOSS_NEG_INF && m < -GPTOSS_NEG_INF)) return;  // not finite: keep the argmax
    const float zmax = m;
    auto keyAt = [&](int i) -> u32 { return pre ? krow[i] : smp_key(smp_z(row, i, t)); };
    auto qAt = [&](int i, u32 k) -> u64 { return pre ? qrow[i] : smp_q(smp_key_float(k), zmax); };

    // 2. Top-k: the k-th largest key K* by a 4-pass radix select on counts; ties at K* keep the lowest
    //    indices (index ≤ cutK).
    const bool useK = P.top_k > 0 && P.top_k < V;
    u32 keyK = 0;
    int cutK = V;
    if (useK) {
        u32 prefix = 0, mask = 0, need = (u32)P.top_k, tieTotal = 0;
        for (int pass = 0; pass < 4; pass++) {
            const int shift = 24 - 8 * pass;
            smp_hist_clear(s, tid);
            __syncthreads();
            for (int i0 = 0; i0 < V; i0 += SMP_THREADS) {
                const int i = i0 + tid;
                const u32 k = i < V ? keyAt(i) : 0u;
                smp_hist_add(s, i < V && (k & mask) == prefix, (k >> shift) & 255, 0, false);
            }
            __syncthreads();
            if (warp == 0) smp_pick_digit(s, false, need, 0, 0.0);
            __syncthreads();
            const int dg = s.sel_digit;
            need -= s.sel_cnt_above;
            tieTotal = s.hcnt[dg];
            prefix |= (u32)dg << shift;
            mask |= 255u << shift;
            __syncthreads();
        }
        keyK = prefix;
        if (need < tieTotal) {
            const u64 nth = (u64)need - 1;
            cutK = smp_find_exceeding(s, V, [&](u64) { return nth; },
                                      [&](int i) -> u64 { return keyAt(i) == keyK ? 1 : 0; });
        }
    }
    auto keptK = [&](int i, u32 k) -> bool { return !useK || k > keyK || (k == keyK && i <= cutK); };

    // 3. Top-p over the top-k set: the cut key K2 by a 4-pass radix select on mass; then the fewest ties
    //    at K2 (lowest indices) that reach theta = top_p · M.
    bool cut = useK;
    u32 keyC = keyK;
    int cutC = cutK;
    if (P.top_p < 1.f) {
        u32 prefix = 0, mask = 0, tc = 0;
        u64 massAbove = 0;
        double theta = 0;
        for (int pass = 0; pass < 4; pass++) {
            const int shift = 24 - 8 * pass;
            smp_hist_clear(s, tid);
            __syncthreads();
            // Zero-weight tokens can never be where the running mass first reaches theta: skipped.
            for (int i0 = 0; i0 < V; i0 += SMP_THREADS) {
                const int i = i0 + tid;
                const u32 k = i < V ? keyAt(i) : 0u;
                const bool cand = i < V && (k & mask) == prefix && keptK(i, k);
                const u64 q = cand ? qAt(i, k) : 0;
                smp_hist_add(s, cand && q > 0, (k >> shift) & 255, q, true);
            }
            __syncthreads();
            if (pass == 0 && warp == 0) {  // pass 0 saw every kept token: M = Σ bins, theta = top_p · M
                u64 m8 = 0;
                for (int j = 0; j < 8; j++) m8 += smp_bin_mass(s, 8 * lane + j);
                m8 = warp_sum_u64(m8);
                if (lane == 0) s.theta = (double)P.top_p * (double)m8;
            }
            __syncthreads();
            theta = s.theta;
            if (warp == 0) smp_pick_digit(s, true, 0, massAbove, theta);
            __syncthreads();
            const int dg = s.sel_digit;
            massAbove += s.sel_mass_above;
            tc = s.hcnt[dg];
            prefix |= (u32)dg << shift;
            mask |= 255u << shift;
            __syncthreads();
        }
        // Ties at K2 share one weight wq: the fewest n ≥ 1 with massAbove + n·wq ≥ theta.
        const u64 wq = smp_q(smp_key_float(prefix), zmax);
        u64 n = 1;
        if (wq > 0 && (double)(massAbove + wq) < theta) {
            double est = ceil((theta - (double)massAbove) / (double)wq);
            n = est < 1.0 ? 1 : (u64)est;
            if (n > tc) n = tc;
            while (n > 1 && (double)(massAbove + (n - 1) * wq) >= theta) n--;
            while (n < tc && (double)(massAbove + n * wq) < theta) n++;
        }
        // Ties at K2 in the whole row (top-k may have dropped some when K2 == K*).
        keyC = prefix;
        cut = true;
        cutC = V;
        const bool allTiesKept = !(useK && prefix == keyK && cutK < V);
        if (n < tc || !allTiesKept) {
            const u64 nth = n - 1;
            cutC = smp_find_exceeding(s, V, [&](u64) { return nth; },
                                      [&](int i) -> u64 { return keyAt(i) == keyC ? 1 : 0; });
        }
    }

    // 4. Inverse CDF in ascending index order over the kept weights: target = ⌊u · S⌋.
    const u64 r = smp_mix(smp_mix(P.seed) ^ P.counter);
    const float u = (float)(r >> 40) * (1.0f / 16777216.0f);
    const int tok = smp_find_exceeding(s, V, [&](u64 S) { return (u64)((double)u * (double)S); }, [&](int i) -> u64 {
        const u32 k = keyAt(i);
        return (!cut || k > keyC || (k == keyC && i <= cutC)) ? qAt(i, k) : 0;
    });
    if (tid == 0) tokens[b] = tok;
}
