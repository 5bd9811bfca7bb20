// CPUKernels: a small spinning thread pool for the CPU backend's parallel loops (gk_pool_run).
// Why: decode runs ≈ 120 parallel phases per token, each 0.1–1.5 ms; a worker that sleeps between
// phases (futex, and in a VM an IPI through the hypervisor) starts late, and the MXFP4 phases are
// ALU-bound per thread, so every µs a worker is missing is lost. Workers spin (pause) for ≈ 0.5 ms after
// a job before they sleep on a condition variable. Tasks are handed out dynamically (one atomic
// counter); the caller works too and returns when every worker has finished the job, so no worker can
// run a stale job. One job at a time: a second caller (another thread) gets -1 and must run the tasks
// itself (CPUBackend falls back to DispatchQueue.concurrentPerform).
#include "CPUKernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define GK_PAUSE() _mm_pause()
#else
#define GK_PAUSE() ((void)0)
#endif

enum { GK_POOL_MAX = 63, GK_SPIN = 20000 };

typedef struct { _Alignas(64) _Atomic long done; } gk_slot;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int workers;
    _Atomic int busy;
    _Alignas(64) _Atomic long gen;
    _Atomic int sleepers;
    _Alignas(64) _Atomic int next;
    int total;
    gk_task_fn fn;
    void *ctx;
    gk_slot slot[GK_POOL_MAX];
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void run_tasks(void) {
    int t;
    while ((t = atomic_fetch_add_explicit(&P.next, 1, memory_order_acq_rel)) < P.total) P.fn(P.ctx, t);
}

static void *worker(void *arg) {
    int i = (int)(long)arg;
    long seen = atomic_load(&P.slot[i].done);   // the generation current when it was created
    for (;;) {
        long g;
        int spins = 0;
        while ((g = atomic_load(&P.gen)) == seen) {
            if (++spins < GK_SPIN) { GK_PAUSE(); continue; }
            pthread_mutex_lock(&P.mu);
            atomic_fetch_add(&P.sleepers, 1);
            while (atomic_load(&P.gen) == seen) pthread_cond_wait(&P.cv, &P.mu);
            atomic_fetch_sub(&P.sleepers, 1);
            pthread_mutex_unlock(&P.mu);
            spins = 0;
        }
        seen = g;
        run_tasks();
        atomic_store_explicit(&P.slot[i].done, g, memory_order_release);
    }
    return 0;
}

int gk_pool_run(int threads, int tasks, gk_task_fn fn, void *ctx) {
    if (tasks <= 0) return 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = threads - 1;
    if (want < 1 || threads > cpus || want > GK_POOL_MAX) return -1;   // spinning needs a core per thread
    int expected = 0;
    if (!atomic_compare_exchange_strong(&P.busy, &expected, 1)) return -1;
    while (P.workers < want) {   // grown on first use; never shrinks (workers sleep when idle)
        pthread_t th;
        atomic_store(&P.slot[P.workers].done, atomic_load(&P.gen));
        if (pthread_create(&th, 0, worker, (void *)(long)P.workers) != 0) break;
        pthread_detach(th);
        P.workers++;
    }
    P.total = tasks;
    P.fn = fn;
    P.ctx = ctx;
    atomic_store(&P.next, 0);
    long g = atomic_load(&P.gen) + 1;
    atomic_store(&P.gen, g);
    if (atomic_load(&P.sleepers) > 0) {
        pthread_mutex_lock(&P.mu);
        pthread_cond_broadcast(&P.cv);
        pthread_mutex_unlock(&P.mu);
    }
    run_tasks();
    for (int i = 0; i < P.workers; i++)
        while (atomic_load_explicit(&P.slot[i].done, memory_order_acquire) != g) GK_PAUSE();
    atomic_store(&P.busy, 0);
    return 0;
}
