// Microbenchmark of the MXFP4 expert GEMV (CPUKernels gk_mxfp4_gemm) at the real gpt-oss-20b shapes:
// per expert gate_up [5760 × 2880] and down [2880 × 2880], NE experts (default 32 ≈ 400 MB, so the
// weights stream from DRAM), 1 token, rows split between `threads` pthreads, every kernel level the CPU
// has (or those named). Prints ms per expert pass, GB/s of packed weights, ns per 32-weight block per
// thread, and the max deviation of each level from level 0 (portable f32 C) relative to Σ|w·x|.
// Not part of the build or CI:
//   clang -O2 -ISources/CPUKernels/include tools/bench_mxfp4.c Sources/CPUKernels/*.c -lpthread -lm -o /tmp/bench_mxfp4
//   /tmp/bench_mxfp4 [experts=32] [repeats=5] [levels=0123] [tokens=1]
// experts < 0: |experts| × 2 passes over the same 256 rows × 2880 (≈ 390 KB, in L2): the ALU rate.
// "best CPU time" is the threads' CPU time (CLOCK_THREAD_CPUTIME_ID) per block: robust to other
// processes taking a core, not to their memory traffic.
#include "CPUKernels.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { H = 2880, I = 2880 };

typedef struct { uint8_t *blocks, *scales; int rows, cols; } Mat;
typedef struct { Mat *mats; int nmats, thread, threads, ntok; float *xp; long ldx; float *out; double cpu; } Job;

static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static float frand(void) { return (float)((next() >> 40) / (double)(1 << 24) * 2 - 1); }

static double cpu_s(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static void *work(void *a) {
    Job *j = (Job *)a;
    double c0 = cpu_s();
    for (int m = 0; m < j->nmats; m++) {
        Mat *mt = &j->mats[m];
        int per = (mt->rows + j->threads - 1) / j->threads, r0 = j->thread * per;
        int n = mt->rows - r0 < per ? mt->rows - r0 : per;
        int nb = mt->cols / 32;
        if (n > 0)
            gk_mxfp4_gemm(mt->blocks + (long)r0 * nb * 16, mt->scales + (long)r0 * nb, n, mt->cols, j->xp, j->ldx, j->ntok,
                          NULL, j->out + r0, 5760);
    }
    j->cpu = cpu_s() - c0;
    return 0;
}

int main(int argc, char **argv) {
    int ne = argc > 1 ? atoi(argv[1]) : 32, reps = argc > 2 ? atoi(argv[2]) : 5;
    const char *levels = argc > 3 ? argv[3] : "0123";
    int ntok = argc > 4 ? atoi(argv[4]) : 1;
    int l2 = ne < 0;
    if (l2) ne = -ne;
    int nm = 2 * ne;
    Mat *mats = calloc(nm, sizeof(Mat));
    double bytes = 0, blocks32 = 0;
    for (int e = 0; e < ne; e++)
        for (int k = 0; k < 2; k++) {
            Mat *m = &mats[2 * e + k];
            m->rows = l2 ? 256 : k == 0 ? 2 * I : H;
            if (l2 && e + k > 0) { *m = mats[0]; bytes += m->rows * (m->cols / 32) * 17.0; blocks32 += m->rows * (m->cols / 32); continue; }
            m->cols = k == 0 ? H : I;
            long nb = (long)m->rows * m->cols / 32;
            m->blocks = malloc(nb * 16);
            m->scales = malloc(nb);
            for (long i = 0; i < nb * 16; i++) m->blocks[i] = (uint8_t)next();
            for (long i = 0; i < nb; i++) m->scales[i] = 118 + next() % 9;
            bytes += nb * 17.0;
            blocks32 += nb;
        }
    float *x = malloc(sizeof(float) * H * ntok);
    for (int i = 0; i < H * ntok; i++) x[i] = frand() * (i % 97 == 0 ? 8 : 1);
    float *xp = malloc(sizeof(float) * 4 * H * ntok);
    float *out = malloc(sizeof(float) * 5760 * ntok), *ref = malloc(sizeof(float) * 5760 * ntok);
    float *mag = malloc(sizeof(float) * 5760);
    printf("experts %d (%.0f MB packed), tokens %d, detected level %d\n", ne, bytes / 1e6, ntok, gk_detected_level());

    // Accuracy on the first gate_up matrix: each level vs level 0 (f32), relative to Σ|w·x| per row.
    {
        Mat *m = &mats[0];
        int nb = m->cols / 32;
        static const float v[16] = {0, .5f, 1, 1.5f, 2, 3, 4, 6, -0.f, -.5f, -1, -1.5f, -2, -3, -4, -6};
        for (int r = 0; r < m->rows; r++) {
            double s = 0;
            for (int c = 0; c < m->cols; c++) {
                uint8_t b = m->blocks[(long)r * nb * 16 + c / 2];
                s += fabs(v[c & 1 ? b >> 4 : b & 15] * ldexp(1, m->scales[(long)r * nb + c / 32] - 127) * x[c]);
            }
            mag[r] = (float)s;
        }
        gk_set_level(0);
        gk_mxfp4_prepare(x, H, xp);
        gk_mxfp4_gemm(m->blocks, m->scales, m->rows, m->cols, xp, H, 1, NULL, ref, 5760);
        for (const char *l = levels; *l; l++) {
            int level = *l - '0';
            if (gk_set_level(level) != level) continue;
            gk_mxfp4_prepare(x, H, xp);
            gk_mxfp4_gemm(m->blocks, m->scales, m->rows, m->cols, xp, gk_mxfp4_prepared_floats(H), 1, NULL, out, 5760);
            double worst = 0;
            for (int r = 0; r < m->rows; r++) worst = fmax(worst, fabs(out[r] - ref[r]) / mag[r]);
            printf("level %d: max |out − level0| / Σ|w·x| = %.3g\n", level, worst);
        }
    }
    for (int threads = 1; threads <= 2; threads++)
        for (const char *l = levels; *l; l++) {
            int level = *l - '0';
            if (gk_set_level(level) != level) continue;
            long ldx = gk_mxfp4_prepared_floats(H);
            for (int t = 0; t < ntok; t++) gk_mxfp4_prepare(x + t * H, H, xp + t * ldx);
            double best = 1e30, times[64], bestcpu = 1e30;
            for (int rep = 0; rep < reps && rep < 64; rep++) {
                pthread_t th[2];
                Job jobs[2];
                double t0 = now_s();
                for (int i = 0; i < threads; i++) {
                    jobs[i] = (Job){mats, nm, i, threads, ntok, xp, ldx, out};
                    pthread_create(&th[i], 0, work, &jobs[i]);
                }
                double cpu = 0;
                for (int i = 0; i < threads; i++) { pthread_join(th[i], 0); cpu += jobs[i].cpu; }
                if (cpu < bestcpu) bestcpu = cpu;
                times[rep] = now_s() - t0;
                if (times[rep] < best) best = times[rep];
            }
            // median
            for (int a = 0; a < reps; a++)
                for (int b = a + 1; b < reps; b++)
                    if (times[b] < times[a]) { double t = times[a]; times[a] = times[b]; times[b] = t; }
            double med = times[reps / 2];
            printf("level %d threads %d: best %.2f ms/expert (%.1f GB/s, %.2f ns/block/thread), median %.2f ms (%.1f GB/s); "
                   "best CPU time %.2f ns/block\n",
                   level, threads, best * 1e3 / ne, bytes / best / 1e9, best * 1e9 * threads / blocks32 / ntok,
                   med * 1e3 / ne, bytes / med / 1e9, bestcpu * 1e9 / blocks32 / ntok);
        }
    return 0;
}
