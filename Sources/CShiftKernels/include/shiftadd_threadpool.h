#ifndef SHIFTADD_THREADPOOL_H
#define SHIFTADD_THREADPOOL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by the thread pool and the kernel API. */
typedef enum {
    SA_OK = 0,
    SA_ERR_ARGUMENT = -1, /* null pointer, or a size or parameter out of its documented range */
    SA_ERR_ISA = -2,      /* the requested instruction set is not available on this CPU */
    SA_ERR_MEMORY = -3,   /* an allocation failed */
    SA_ERR_MISMATCH = -4, /* a table and a matrix disagree on shape, or more tokens than were built */
    SA_ERR_THREAD = -5    /* a worker thread could not be started */
} sa_status;

/* A fixed set of worker threads that run batches of independent tasks.
 *
 * A pool of N threads starts N - 1 workers; the thread calling sa_threadpool_run is the N-th.
 * Workers spin briefly after each batch (so back-to-back batches start without a system call)
 * and then sleep on a condition variable. Tasks of one batch are handed out from a shared
 * counter, so which thread runs a task varies between runs; a task must therefore produce the
 * same result on any thread (the kernels give each task its own output rows). */
typedef struct sa_threadpool sa_threadpool;

/* Largest task count of one run. */
#define SA_THREADPOOL_MAX_TASKS 65535

/* One task: `task` runs from 0 to n_tasks - 1. */
typedef void (*sa_task_fn)(void *ctx, int task);

/* Creates a pool of `n_threads` threads in total (1 ... 256; 1 means the caller alone).
 * Returns NULL and sets *err (if err is not NULL) on failure. Free with sa_threadpool_free. */
sa_threadpool *sa_threadpool_create(int n_threads, int *err);

/* Stops and joins the workers and frees the pool. NULL is ignored. Must not race with a run. */
void sa_threadpool_free(sa_threadpool *pool);

/* Total number of threads, the caller included. */
int sa_threadpool_size(const sa_threadpool *pool);

/* Runs fn(ctx, i) once for every i in [0, n_tasks) and returns when all have finished.
 * Calls from different threads are serialized; calling it from inside a task deadlocks.
 * A pool of one thread runs the tasks in order on the caller without locking.
 * Returns SA_OK, or SA_ERR_ARGUMENT for a NULL pool or fn or n_tasks outside
 * [0, SA_THREADPOOL_MAX_TASKS]. */
int sa_threadpool_run(sa_threadpool *pool, int n_tasks, sa_task_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
