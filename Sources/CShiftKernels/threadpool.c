#include "shiftadd_threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#else
static inline void cpu_relax(void) {}
#endif

/* How long an idle worker polls for the next batch before it sleeps. Decoding issues a
 * product every few microseconds, so a short spin saves a wake-up system call per product. */
#define SPIN_NANOSECONDS 100000LL
#define MAX_THREADS 256

/* The batch word packs generation (high 32 bits), task count (16 bits) and the next task
 * (16 bits). Claiming a task is a compare-and-swap on the whole word, so a worker that wakes
 * late for a finished batch can never claim a task of the next one. */
static inline uint64_t batch_word(uint32_t gen, uint32_t n, uint32_t next) {
    return ((uint64_t)gen << 32) | ((uint64_t)n << 16) | next;
}

struct sa_threadpool {
    int n_threads;
    pthread_t *workers;
    int n_started;

    pthread_mutex_t run_lock; /* one batch at a time */
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;

    sa_task_fn fn; /* written by the runner before it publishes the batch word */
    void *ctx;
    uint32_t gen; /* runner-side copy of the current generation */

    uint64_t batch; /* atomic */
    int done;       /* atomic: tasks finished in the current batch */
    int sleepers;   /* atomic */
    int stop;       /* atomic */
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Claims and runs tasks of generation `gen` until none is left. */
static void run_tasks(sa_threadpool *pool, uint32_t gen) {
    uint64_t w = __atomic_load_n(&pool->batch, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((uint32_t)(w >> 32) != gen) return;
        uint32_t n = (uint32_t)(w >> 16) & 0xFFFF, i = (uint32_t)w & 0xFFFF;
        if (i >= n) return;
        if (!__atomic_compare_exchange_n(&pool->batch, &w, w + 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            continue;
        }
        pool->fn(pool->ctx, (int)i);
        __atomic_fetch_add(&pool->done, 1, __ATOMIC_RELEASE);
        w = __atomic_load_n(&pool->batch, __ATOMIC_ACQUIRE);
    }
}

/* Returns the first generation different from `seen`, spinning first and then sleeping. */
static uint32_t wait_for_batch(sa_threadpool *pool, uint32_t seen) {
    int64_t deadline = now_ns() + SPIN_NANOSECONDS;
    for (unsigned spin = 1;; spin++) {
        uint32_t gen = (uint32_t)(__atomic_load_n(&pool->batch, __ATOMIC_ACQUIRE) >> 32);
        if (gen != seen) return gen;
        cpu_relax();
        if ((spin & 63) == 0 && now_ns() > deadline) break;
    }
    pthread_mutex_lock(&pool->sleep_lock);
    __atomic_fetch_add(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
    uint32_t gen;
    while ((gen = (uint32_t)(__atomic_load_n(&pool->batch, __ATOMIC_SEQ_CST) >> 32)) == seen) {
        pthread_cond_wait(&pool->wake, &pool->sleep_lock);
    }
    __atomic_fetch_sub(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&pool->sleep_lock);
    return gen;
}

static void *worker_main(void *arg) {
    sa_threadpool *pool = arg;
    uint32_t seen = 0;
    for (;;) {
        seen = wait_for_batch(pool, seen);
        if (__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE)) return NULL;
        run_tasks(pool, seen);
    }
}

/* Publishes a new batch word and wakes sleeping workers. Runner side only. */
static void publish(sa_threadpool *pool, uint32_t n) {
    pool->gen++;
    __atomic_store_n(&pool->batch, batch_word(pool->gen, n, 0), __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&pool->sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&pool->sleep_lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->sleep_lock);
    }
}

static void stop_workers(sa_threadpool *pool) {
    __atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
    publish(pool, 0);
    for (int i = 0; i < pool->n_started; i++) pthread_join(pool->workers[i], NULL);
}

sa_threadpool *sa_threadpool_create(int n_threads, int *err) {
    int status = SA_OK;
    sa_threadpool *pool = NULL;
    if (n_threads < 1 || n_threads > MAX_THREADS) {
        status = SA_ERR_ARGUMENT;
        goto done;
    }
    pool = calloc(1, sizeof *pool);
    if (!pool) {
        status = SA_ERR_MEMORY;
        goto done;
    }
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_mutex_init(&pool->sleep_lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    if (n_threads > 1) {
        pool->workers = calloc((size_t)(n_threads - 1), sizeof(pthread_t));
        if (!pool->workers) {
            status = SA_ERR_MEMORY;
            goto done;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            if (pthread_create(&pool->workers[i], NULL, worker_main, pool) != 0) {
                status = SA_ERR_THREAD;
                goto done;
            }
            pool->n_started++;
        }
    }
done:
    if (status != SA_OK && pool) {
        sa_threadpool_free(pool);
        pool = NULL;
    }
    if (err) *err = status;
    return pool;
}

void sa_threadpool_free(sa_threadpool *pool) {
    if (!pool) return;
    stop_workers(pool);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->sleep_lock);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool->workers);
    free(pool);
}

int sa_threadpool_size(const sa_threadpool *pool) { return pool ? pool->n_threads : 0; }

int sa_threadpool_run(sa_threadpool *pool, int n_tasks, sa_task_fn fn, void *ctx) {
    if (!pool || !fn || n_tasks < 0 || n_tasks > SA_THREADPOOL_MAX_TASKS) return SA_ERR_ARGUMENT;
    if (n_tasks == 0) return SA_OK;
    if (pool->n_threads == 1) {
        for (int i = 0; i < n_tasks; i++) fn(ctx, i);
        return SA_OK;
    }
    pthread_mutex_lock(&pool->run_lock);
    pool->fn = fn;
    pool->ctx = ctx;
    __atomic_store_n(&pool->done, 0, __ATOMIC_RELAXED);
    publish(pool, (uint32_t)n_tasks);
    run_tasks(pool, pool->gen);
    for (unsigned spin = 1; __atomic_load_n(&pool->done, __ATOMIC_ACQUIRE) < n_tasks; spin++) {
        cpu_relax();
        if ((spin & 1023) == 0) sched_yield();
    }
    pthread_mutex_unlock(&pool->run_lock);
    return SA_OK;
}
