// Microbenchmark of the bf16 decode GEMV (CPUKernels gk_bf16_gemm, one token) streaming from DRAM:
// a [rows × 2880] bf16 matrix (default 72,000 rows ≈ 415 MB), rows split between `threads` pthreads in
// `chunks` contiguous chunks each (as CPUBackend's Parallel does), for 1, 2 and 4 far-apart rows per
// pass (gk_bf16_decode_rows). Prints GB/s per variant (best and median of the repeats, alternating
// variants) and checks that every variant gives bit-identical outputs. Not part of the build or CI:
//   clang -O2 -ISources/CPUKernels/include -ISources/CPUKernels tools/bench_bf16.c Sources/CPUKernels/*.c -lpthread -lm -o /tmp/bench_bf16
//   /tmp/bench_bf16 [rows=72000] [repeats=7] [threads=2] [chunks=4]
#include "CPUKernels.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern int gk_bf16_decode_rows;
enum { C = 2880 };
typedef struct { uint16_t *w; int rows, thread, threads, chunks; float *x, *out; } Job;

static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void *work(void *a) {
    Job *j = (Job *)a;
    int per = (j->rows + j->threads - 1) / j->threads, r0 = j->thread * per;
    int n = j->rows - r0 < per ? j->rows - r0 : per;
    int cp = (n + j->chunks - 1) / j->chunks;
    for (int c = 0; c < j->chunks; c++) {
        int lo = c * cp, hi = lo + cp < n ? lo + cp : n;
        if (lo < hi) gk_bf16_gemm(j->w + (long)(r0 + lo) * C, C, hi - lo, C, j->x, C, 1, NULL, j->out + r0 + lo, 0);
    }
    return 0;
}
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    int rows = argc > 1 ? atoi(argv[1]) : 72000, reps = argc > 2 ? atoi(argv[2]) : 7;
    int threads = argc > 3 ? atoi(argv[3]) : 2, chunks = argc > 4 ? atoi(argv[4]) : 4;
    gk_level();
    uint16_t *w = aligned_alloc(64, (size_t)rows * C * 2);
    uint32_t s = 12345;
    for (long i = 0; i < (long)rows * C; i++) { s = s * 1664525u + 1013904223u; w[i] = (uint16_t)(0x3c00 + ((s >> 16) & 0x7ff)) ^ (uint16_t)((s >> 5) & 0x8000); }
    float *x = aligned_alloc(64, C * 4);
    for (int i = 0; i < C; i++) x[i] = (float)((i * 37) % 101 - 50) / 50.0f;
    int S[3] = {1, 2, 4};
    float *out[3];
    double t[3][64];
    for (int v = 0; v < 3; v++) out[v] = calloc(rows, 4);
    for (int r = 0; r < reps; r++)
        for (int v = 0; v < 3; v++) {
            gk_bf16_decode_rows = S[v];
            pthread_t th[16]; Job jobs[16];
            double t0 = now_s();
            for (int i = 0; i < threads; i++) { jobs[i] = (Job){w, rows, i, threads, chunks, x, out[v]}; pthread_create(&th[i], 0, work, &jobs[i]); }
            for (int i = 0; i < threads; i++) pthread_join(th[i], 0);
            t[v][r] = now_s() - t0;
        }
    double gb = (double)rows * C * 2 / 1e9;
    for (int v = 0; v < 3; v++) {
        qsort(t[v], reps, sizeof(double), cmp);
        printf("rows/pass %d: best %.1f GB/s, median %.1f GB/s, identical to 1: %s\n", S[v], gb / t[v][0], gb / t[v][reps / 2],
               memcmp(out[v], out[0], (size_t)rows * 4) == 0 ? "yes" : "NO");
    }
    return 0;
}
