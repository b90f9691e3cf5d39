// The kernels' fork-join pool (see ckernels.h): workers − 1 threads that spin for a while after each run, so that
// the next kernel's hand-off costs a cache line rather than a wake-up, then sleep on a condition variable. A worker
// that starts a run on its caller's CPU moves off it (mrc_move_off_cpu) where the pool has a CPU for each thread.
#define _GNU_SOURCE
#include "ckernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define relax() _mm_pause()
#else
#define relax() ((void)0)
#endif

enum { MAX_WORKERS = 64 };
struct mrc_pool {
    int size;                       // threads including the caller (0: none; runs are refused)
    _Atomic int busy;               // a run in progress (a second caller is refused)
    _Atomic uint64_t generation;    // bumped per run
    _Atomic int64_t remaining;      // workers that have not yet finished this run (with a chunk or without)
    mrc_pool_task task;
    void *context;
    int64_t chunks;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int sleepers;
    _Atomic int callerCPU;          // the CPU the caller ran on when it started this run (−1: unknown)
    int spreads;                    // a worker found on the caller's CPU moves off it (no more threads than CPUs)
};

struct worker { mrc_pool *pool; int index; };

int mrc_current_cpu(void) {
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

int mrc_allowed_cpus(void) {
#if defined(__linux__)
    cpu_set_t mine;
    return sched_getaffinity(0, sizeof mine, &mine) ? -1 : CPU_COUNT(&mine);
#else
    return -1;
#endif
}

int mrc_move_off_cpu(int cpu) {
#if defined(__linux__)
    cpu_set_t mine, others;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getcpu() != cpu || sched_getaffinity(0, sizeof mine, &mine)) return 0;
    others = mine;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others)) return 0;
    return sched_setaffinity(0, sizeof mine, &mine) ? -1 : 1;
#else
    (void)cpu;
    return 0;
#endif
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *worker_main(void *argument) {
    const struct worker me = *(struct worker *)argument;
    free(argument);
    mrc_pool *pool = me.pool;
    uint64_t seen = 0;  // the generation when the pool started: a run may begin before this thread does
    for (;;) {
        // Spin for a while (the next kernel usually follows within microseconds), then sleep.
        const double until = now_seconds() + 200e-6;
        uint64_t g;
        for (int spins = 0;; spins++) {
            g = atomic_load_explicit(&pool->generation, memory_order_acquire);
            if (g != seen) break;
            relax();
            if ((spins & 255) == 255 && now_seconds() > until) {
                pthread_mutex_lock(&pool->lock);
                pool->sleepers++;
                while ((g = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen)
                    pthread_cond_wait(&pool->wake, &pool->lock);
                pool->sleepers--;
                pthread_mutex_unlock(&pool->lock);
                break;
            }
        }
        seen = g;
        // Two threads of a run on one CPU take turns on it (a spinning one spends the other's time): the wake-up of a
        // sleeping worker can place it on its waker's CPU. Where there is a CPU for each thread, move off the caller's.
        if (pool->spreads) {
            const int cpu = mrc_current_cpu();
            if (cpu == atomic_load_explicit(&pool->callerCPU, memory_order_relaxed)) mrc_move_off_cpu(cpu);
        }
        // Every worker answers every run, with a chunk or without: the caller waits for all of them, so no worker
        // can still be reading this run's fields when the next run writes them.
        if (me.index < pool->chunks) pool->task(pool->context, me.index);
        atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_acq_rel);
    }
    return NULL;
}

mrc_pool *mrc_pool_create(int workers) {
    if (workers < 2 || workers > MAX_WORKERS) return NULL;
    mrc_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    atomic_init(&pool->callerCPU, -1);
    pool->spreads = mrc_allowed_cpus() >= workers;  // −1 where unknown
    for (int k = 1; k < workers; k++) {
        struct worker *argument = malloc(sizeof *argument);
        pthread_t thread;
        // Threads started before a failure only ever wait (no run reaches a pool of size 0); the pool is kept.
        if (!argument) return NULL;
        *argument = (struct worker){pool, k};
        if (pthread_create(&thread, NULL, worker_main, argument)) { free(argument); return NULL; }
        pthread_detach(thread);
    }
    pool->size = workers;
    return pool;
}

int mrc_pool_run_on(mrc_pool *pool, int64_t chunks, mrc_pool_task task, void *context) {
    if (!pool || chunks < 2 || chunks > pool->size) return -1;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&pool->busy, &expected, 1)) return -1;
    pool->task = task;
    pool->context = context;
    pool->chunks = chunks;
    atomic_store_explicit(&pool->remaining, pool->size - 1, memory_order_relaxed);
    if (pool->spreads) atomic_store_explicit(&pool->callerCPU, mrc_current_cpu(), memory_order_relaxed);
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    if (pool->sleepers) pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    task(context, 0);
    while (atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0) relax();
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
    return 0;
}

// The process's pool, for the kernels. A forked child has none of its workers: it runs every kernel's chunks the
// other way (mrc_pool_run refuses).
static mrc_pool *process_pool;

static void forget_pool_in_child(void) { process_pool = NULL; }

int mrc_pool_start(int workers) {
    if (process_pool) return process_pool->size;
    mrc_pool *pool = mrc_pool_create(workers);
    if (!pool) return 0;
    pthread_atfork(NULL, NULL, forget_pool_in_child);
    process_pool = pool;
    return pool->size;
}

int mrc_pool_run(int64_t chunks, mrc_pool_task task, void *context) {
    return mrc_pool_run_on(process_pool, chunks, task, context);
}
