// CPUKernels: the innermost loops of the CPU backend in C, so that they can use AVX-512 / AVX2+FMA
// through target attributes and still run on any x86-64 (or other) host: the implementation is
// chosen once at run time from cpuid (gk_level). Swift SIMD could not express the 16-entry register
// table lookup (vpermps) these MXFP4 kernels rely on without lowering it lane by lane.
//
// All kernels are "dot-product form": weights are read in place, row-major [rows, cols] (the
// checkpoint layout, out × in), activations are row-major [tokens, cols] f32, and
//   out[t * ldo + r] = Σ_c W[r, c] · x[t, c] + bias[r]      for r < rows, t < ntok.
// Each weight row is streamed once per call and reused from registers across a tile of tokens.
#ifndef GPTOSS_CPU_KERNELS_H
#define GPTOSS_CPU_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 0: portable C, 1: AVX2 + FMA, 2: AVX-512 (F, BW, VL, DQ), 3: AVX-512 + VNNI + VBMI (MXFP4 dot products in
/// int8, the activations split into three int8 terms; everything else as level 2).
int gk_level(void);
/// The highest level this CPU supports.
int gk_detected_level(void);
/// Forces a level (tests compare every level the CPU supports); clamped to the detected level.
/// Returns the level now in use.
int gk_set_level(int level);
/// Rows per pass of the AVX-512 bf16 decode GEMV (one token): 1, 2 (default) or 4 far-apart rows
/// (GPTOSS_CPU_BF16_ROWS at start-up); every choice gives bit-identical results. Other values are
/// ignored. Returns the value now in use.
int gk_set_bf16_decode_rows(int rows);

/// A task of gk_pool_run: `task` in 0 ..< tasks, each run exactly once, on any thread.
typedef void (*gk_task_fn)(void *ctx, int task);
/// Runs fn(ctx, 0 ..< tasks) on the calling thread and up to threads − 1 spinning pool workers
/// (pool.c); returns when all are done. Returns -1 without running anything when the pool is in use
/// by another thread or threads exceeds the online CPUs (the caller then runs the tasks its own way).
int gk_pool_run(int threads, int tasks, gk_task_fn fn, void *ctx);

/// bf16 weights: w [rows, ldw] (bf16 bits), x [ntok, ldx] f32, bias [rows] bf16 bits or NULL,
/// out [ntok, ldo] f32 (columns 0 ..< rows written).
void gk_bf16_gemm(const uint16_t *w, long ldw, int rows, int cols,
                  const float *x, long ldx, int ntok,
                  const uint16_t *bias, float *out, long ldo);

/// MXFP4 weights of one expert (spec §2.2): blocks [rows, cols/32, 16] (low nibble = even element),
/// scales [rows, cols/32] E8M0. `xp` holds the activations as made by gk_mxfp4_prepare at the same
/// level: [ntok, ldx] floats with ldx ≥ gk_mxfp4_prepared_floats(cols), cols % 32 == 0. bias bf16 or NULL.
/// Levels 0–2 compute in f32; level 3 in int8 × int8 → int32 per 32-block, with each activation
/// represented as s_b·(hi + mid/2^8 + lo/2^16) (int8 terms; s_b = max|x| of its 32-block / 127), so
/// |x − represented| ≤ 6.1e-8 · max|x| of its block + 2.5e-7 · |x|; then f32 (one FMA per 4 blocks).
void gk_mxfp4_gemm(const uint8_t *blocks, const uint8_t *scales, int rows, int cols,
                   const float *xp, long ldx, int ntok,
                   const uint16_t *bias, float *out, long ldo);

/// Floats to reserve per prepared activation vector of `cols` columns, valid at every level (the stride
/// to pass as ldx): max(cols, the level-3 int8 layout's 96 floats per 128 columns, rounded up).
long gk_mxfp4_prepared_floats(int cols);
/// x [cols] f32 → xp [gk_mxfp4_prepared_floats(cols)]: the activation layout the current level's
/// gk_mxfp4_gemm reads (gk_mxfp4_permute at levels 0–2, the three-term int8 split at level 3). Prepare
/// and multiply at the same level.
void gk_mxfp4_prepare(const float *x, int cols, float *xp);

/// x [cols] → xp [cols]: within each 32-block, the 16 even elements then the 16 odd ones (the order
/// in which the low and high nibbles of a block's 16 bytes come out of the decoder).
void gk_mxfp4_permute(const float *x, int cols, float *xp);

/// Index of element c of a row inside the block-permuted layout.
static inline int gk_mxfp4_permuted_index(int c) {
    return (c & ~31) | ((c & 1) << 4) | ((c & 31) >> 1);
}

/// Σ over the whole buffer of 8-byte words, read by `threads` threads at once; returns bytes/second
/// of the best of `repeats` passes (memory read bandwidth for the decode floor).
double gk_read_bandwidth(const void *buffer, long bytes, int threads, int repeats);

#ifdef __cplusplus
}
#endif
#endif
