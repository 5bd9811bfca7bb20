// Does data software-prefetched during a stream survive in L3 until it is read? (the CPU decode idea of
// docs/perf-notes.md, CPU "Version 7": pull the next bf16 phase's weights into L3 while the ALU-bound MXFP4
// phases leave some host bandwidth unused). Two threads stream A (MiB, argv[1]) with one 64-byte software
// prefetch into region B (MiB, argv[2]) every argv[3] lines of A, then read B; modes 0 (no prefetch),
// 1 prefetcht0, 2 prefetcht1, 3 prefetcht2, 4 A by prefetchnta + B by prefetcht0; three rounds, each after a
// 256 MiB flush. Build: cc -O2 -march=native -pthread tools/bench_l3_prefetch.c -o /tmp/l3pf; run: /tmp/l3pf 53 14 4
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
typedef struct { const char *a; size_t an; const char *b; size_t bn; int mode; int every; double sum; } job;
// stream a (sum of 64-byte lines); mode 0 none, 1 prefetcht0 b, 2 prefetcht1, 3 prefetcht2, 4 = a via nta + b t0
static void *stream(void *p) {
    job *j = p; __m512i acc = _mm512_setzero_si512(); size_t bi = 0;
    for (size_t i = 0, k = 0; i < j->an; i += 64, k++) {
        if (j->mode == 4) _mm_prefetch(j->a + i + 1024, _MM_HINT_NTA);
        acc = _mm512_add_epi64(acc, _mm512_load_si512((const void *)(j->a + i)));
        if (j->mode && k % j->every == 0 && bi < j->bn) {
            const char *q = j->b + bi; bi += 64;
            if (j->mode == 1 || j->mode == 4) _mm_prefetch(q, _MM_HINT_T0);
            else if (j->mode == 2) _mm_prefetch(q, _MM_HINT_T1);
            else _mm_prefetch(q, _MM_HINT_T2);
        }
    }
    j->sum = _mm512_reduce_add_epi64(acc); return 0;
}
static void *readb(void *p) { job *j = p; __m512i acc = _mm512_setzero_si512();
    for (size_t i = 0; i < j->bn; i += 64) acc = _mm512_add_epi64(acc, _mm512_load_si512((const void *)(j->b + i)));
    j->sum = _mm512_reduce_add_epi64(acc); return 0; }
static double run2(void *(*f)(void *), job *js) { pthread_t t; double t0 = now(); pthread_create(&t, 0, f, &js[1]); f(&js[0]); pthread_join(t, 0); return now() - t0; }
int main(int argc, char **argv) {
    size_t AN = (size_t)atoi(argv[1]) << 20, BN = (size_t)atoi(argv[2]) << 20; int every = atoi(argv[3]);
    char *flush = aligned_alloc(64, 256 << 20); memset(flush, 1, 256 << 20);
    char *a = aligned_alloc(64, AN), *b = aligned_alloc(64, BN); memset(a, 2, AN); memset(b, 3, BN);
    for (int rep = 0; rep < 3; rep++) for (int mode = 0; mode <= 4; mode++) {
        job fj[2] = {{flush, 128 << 20, 0, 0, 0, 1, 0}, {flush + (128 << 20), 128 << 20, 0, 0, 0, 1, 0}};
        run2(stream, fj);
        job sj[2] = {{a, AN / 2, b, BN / 2, mode, every, 0}, {a + AN / 2, AN / 2, b + BN / 2, BN / 2, mode, every, 0}};
        double ts = run2(stream, sj);
        job bj[2] = {{0, 0, b, BN / 2, 0, 1, 0}, {0, 0, b + BN / 2, BN / 2, 0, 1, 0}};
        double tb = run2(readb, bj);
        printf("mode %d every %d: stream A %.1f GB/s (%.2f ms), then B %.1f GB/s (%.2f ms), total %.2f ms\n", mode, every,
               AN / ts / 1e9, ts * 1e3, BN / tb / 1e9, tb * 1e3, (ts + tb) * 1e3);
    }
}
