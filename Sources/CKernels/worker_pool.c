// The kernels' fork-join pool (see ckernels.h): workers − 1 threads that spin for a while after each run, so that
// the next kernel's hand-off costs a cache line rather than a wake-up, then sleep on a condition variable.
#include "ckernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define relax() _mm_pause()
#else
#define relax() ((void)0)
#endif

enum { MAX_WORKERS = 64 };
static struct {
    int size;                       // threads including the caller (0: not started)
    _Atomic int busy;               // a run in progress (a second caller falls back)
    _Atomic uint64_t generation;    // bumped per run
    _Atomic int64_t remaining;      // worker chunks not yet done in this run
    mrc_pool_task task;
    void *context;
    int64_t chunks;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int sleepers;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *worker_main(void *argument) {
    const int index = (int)(intptr_t)argument;
    uint64_t seen = 0;  // the generation when the pool started: a run may begin before this thread does
    for (;;) {
        // Spin for a while (the next kernel usually follows within microseconds), then sleep.
        const double until = now_seconds() + 200e-6;
        uint64_t g;
        for (int spins = 0;; spins++) {
            g = atomic_load_explicit(&pool.generation, memory_order_acquire);
            if (g != seen) break;
            relax();
            if ((spins & 255) == 255 && now_seconds() > until) {
                pthread_mutex_lock(&pool.lock);
                pool.sleepers++;
                while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen)
                    pthread_cond_wait(&pool.wake, &pool.lock);
                pool.sleepers--;
                pthread_mutex_unlock(&pool.lock);
                break;
            }
        }
        seen = g;
        if (index < pool.chunks) {
            pool.task(pool.context, index);
            atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_acq_rel);
        }
    }
    return NULL;
}

int mrc_pool_start(int workers) {
    if (pool.size) return pool.size;
    if (workers < 2 || workers > MAX_WORKERS) return 0;
    for (int k = 1; k < workers; k++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker_main, (void *)(intptr_t)k)) return 0;
        pthread_detach(thread);
    }
    pool.size = workers;
    return workers;
}

int mrc_pool_run(int64_t chunks, mrc_pool_task task, void *context) {
    if (chunks < 2 || chunks > pool.size) return -1;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&pool.busy, &expected, 1)) return -1;
    pool.task = task;
    pool.context = context;
    pool.chunks = chunks;
    atomic_store_explicit(&pool.remaining, chunks - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    if (pool.sleepers) pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    task(context, 0);
    while (atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0) relax();
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
    return 0;
}
