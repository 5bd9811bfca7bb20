// CPUKernels: run-time selection of the kernel level (cpuid), the portable C kernels (the fallback
// for hosts without AVX2, and the simplest statement of what every level computes), the MXFP4
// activation permutation and the read-bandwidth probe.
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

const float gk_fp4_values[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                 -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

static float e8m0_init(int s) {
    uint32_t u = s == 0 ? 0x00400000u : (uint32_t)s << 23;   // 255 << 23 is +inf
    float f;
    memcpy(&f, &u, 4);
    return f;
}
float gk_e8m0[256];   // filled on first use by detect() (constant after that)

int gk_bf16_decode_rows = 2;
static int detected = -1;
static int current = -1;

static void detect(void) {
    if (detected >= 0) return;
    for (int s = 0; s < 256; s++) gk_e8m0[s] = e8m0_init(s);
    int level = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
    if (level == 1 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        level = 2;
    if (level == 2 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi"))
        level = 3;   // cpuid leaf 7 ECX bits 11 and 1 (Zen 4, Ice Lake and later; not Cascade Lake)
#endif
    const char *env = getenv("GPTOSS_CPU_LEVEL");   // e.g. GPTOSS_CPU_LEVEL=1 to time the AVX2 path
    current = level;
    if (env && env[0] >= '0' && env[0] <= '3' && env[0] - '0' < level) current = env[0] - '0';
    const char *rows = getenv("GPTOSS_CPU_BF16_ROWS");   // A/B switch for the bf16 decode GEMV
    if (rows && (rows[0] == '1' || rows[0] == '2' || rows[0] == '4')) gk_bf16_decode_rows = rows[0] - '0';
    detected = level;
}

int gk_detected_level(void) { detect(); return detected; }
int gk_set_bf16_decode_rows(int rows) {
    detect();
    if (rows == 1 || rows == 2 || rows == 4) gk_bf16_decode_rows = rows;
    return gk_bf16_decode_rows;
}
int gk_level(void) { detect(); return current; }
int gk_set_level(int level) {
    detect();
    current = level < 0 ? 0 : (level > detected ? detected : level);
    return current;
}

void gk_bf16_gemm(const uint16_t *w, long ldw, int rows, int cols, const float *x, long ldx, int ntok,
                  const uint16_t *bias, float *out, long ldo) {
    if (rows <= 0 || ntok <= 0) return;
    switch (gk_level()) {
#if defined(__x86_64__)
    case 3:
    case 2: gk_bf16_gemm_avx512(w, ldw, rows, cols, x, ldx, ntok, bias, out, ldo); return;
    case 1: gk_bf16_gemm_avx2(w, ldw, rows, cols, x, ldx, ntok, bias, out, ldo); return;
#endif
    default: gk_bf16_gemm_generic(w, ldw, rows, cols, x, ldx, ntok, bias, out, ldo); return;
    }
}

void gk_mxfp4_gemm(const uint8_t *blocks, const uint8_t *scales, int rows, int cols, const float *xp, long ldx,
                   int ntok, const uint16_t *bias, float *out, long ldo) {
    if (rows <= 0 || ntok <= 0) return;
    switch (gk_level()) {
#if defined(__x86_64__)
    case 3: gk_mxfp4_gemm_vnni(blocks, scales, rows, cols, xp, ldx * 4, ntok, bias, out, ldo); return;
    case 2: gk_mxfp4_gemm_avx512(blocks, scales, rows, cols, xp, ldx, ntok, bias, out, ldo); return;
    case 1: gk_mxfp4_gemm_avx2(blocks, scales, rows, cols, xp, ldx, ntok, bias, out, ldo); return;
#endif
    default: gk_mxfp4_gemm_generic(blocks, scales, rows, cols, xp, ldx, ntok, bias, out, ldo); return;
    }
}

long gk_mxfp4_prepared_floats(int cols) {
#if defined(__x86_64__)
    long q8 = gk_mxfp4_q8_bytes(cols) / 4;
    if (q8 > cols) return q8;
#endif
    return cols;
}

void gk_mxfp4_prepare(const float *x, int cols, float *xp) {
#if defined(__x86_64__)
    if (gk_level() == 3) { gk_mxfp4_quantize_vnni(x, cols, xp); return; }
#endif
    gk_mxfp4_permute(x, cols, xp);
}

void gk_mxfp4_permute(const float *x, int cols, float *xp) {
    for (int g = 0; g < cols; g += 32)
        for (int j = 0; j < 16; j++) {
            xp[g + j] = x[g + 2 * j];
            xp[g + 16 + j] = x[g + 2 * j + 1];
        }
}

// MARK: portable kernels

void gk_bf16_gemm_generic(const uint16_t *w, long ldw, int rows, int cols, const float *x, long ldx, int ntok,
                          const uint16_t *bias, float *out, long ldo) {
    for (int r = 0; r < rows; r++) {
        const uint16_t *wr = w + (long)r * ldw;
        float b = bias ? gk_bf16(bias[r]) : 0.0f;
        for (int t = 0; t < ntok; t++) {
            const float *xt = x + (long)t * ldx;
            float s = 0;
            for (int c = 0; c < cols; c++) s += gk_bf16(wr[c]) * xt[c];
            out[(long)t * ldo + r] = s + b;
        }
    }
}

void gk_mxfp4_gemm_generic(const uint8_t *blocks, const uint8_t *scales, int rows, int cols, const float *xp,
                           long ldx, int ntok, const uint16_t *bias, float *out, long ldo) {
    detect();
    int nb = cols / 32;
    for (int r = 0; r < rows; r++) {
        const uint8_t *br = blocks + (long)r * nb * 16;
        const uint8_t *sr = scales + (long)r * nb;
        float b = bias ? gk_bf16(bias[r]) : 0.0f;
        for (int t = 0; t < ntok; t++) {
            const float *xt = xp + (long)t * ldx;
            float s = 0;
            for (int g = 0; g < nb; g++) {
                float sc = gk_e8m0[sr[g]], part = 0;
                for (int j = 0; j < 16; j++) {
                    uint8_t byte = br[g * 16 + j];
                    part += gk_fp4_values[byte & 15] * sc * xt[g * 32 + j];
                    part += gk_fp4_values[byte >> 4] * sc * xt[g * 32 + 16 + j];
                }
                s += part;
            }
            out[(long)t * ldo + r] = s + b;
        }
    }
}

// MARK: read bandwidth

struct bw_arg { const uint64_t *p; long n; uint64_t sum; };

static void *bw_read(void *a) {
    struct bw_arg *arg = (struct bw_arg *)a;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const uint64_t *p = arg->p;
    long n = arg->n & ~7L;
    for (long i = 0; i < n; i += 8) {
        s0 += p[i] ^ p[i + 4]; s1 += p[i + 1] ^ p[i + 5]; s2 += p[i + 2] ^ p[i + 6]; s3 += p[i + 3] ^ p[i + 7];
    }
    arg->sum = s0 + s1 + s2 + s3;
    return 0;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

double gk_read_bandwidth(const void *buffer, long bytes, int threads, int repeats) {
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    long words = bytes / 8 / threads;
    double best = 1e30;
    volatile uint64_t sink = 0;
    for (int rep = 0; rep < repeats; rep++) {
        pthread_t th[64];
        struct bw_arg args[64];
        double t0 = now_s();
        for (int i = 0; i < threads; i++) {
            args[i].p = (const uint64_t *)buffer + (long)i * words;
            args[i].n = words;
            pthread_create(&th[i], 0, bw_read, &args[i]);
        }
        for (int i = 0; i < threads; i++) { pthread_join(th[i], 0); sink += args[i].sum; }
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    (void)sink;
    return (double)(words * 8 * threads) / best;
}
