/* Activation tables: storage, dispatch, and the scalar builder that defines the exact
 * arithmetic every vector builder reproduces. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lut_layout.h"
#include "shiftadd_cpu.h"
#include "shiftadd_hadamard.h"
#include "thread_scratch.h"

int sa_resolve_isa(int isa, int *resolved) {
    const int best = (int)sa_cpu_best_isa();
    if (isa == SA_ISA_BEST) isa = best;
    if (isa != SA_ISA_SCALAR && isa != SA_ISA_AVX2 && isa != SA_ISA_AVX512) return SA_ERR_ARGUMENT;
    if (isa > best) return SA_ERR_ISA;
    *resolved = isa;
    return SA_OK;
}

static void *alloc64(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

sa_lut *sa_lut_create(int max_tokens, int cols, int group_size, int isa, int *err) {
    int status = SA_OK;
    sa_lut *lut = NULL;
    int resolved = SA_ISA_SCALAR;
    if (max_tokens < 1 || max_tokens > SA_MAX_TOKENS || cols < 1 || cols > SA_MAX_DIM ||
        group_size < 8 || group_size > SA_MAX_GROUP || group_size % 8 != 0) {
        status = SA_ERR_ARGUMENT;
        goto done;
    }
    status = sa_resolve_isa(isa, &resolved);
    if (status != SA_OK) goto done;
    lut = calloc(1, sizeof *lut);
    if (!lut) {
        status = SA_ERR_MEMORY;
        goto done;
    }
    lut->max_tokens = max_tokens;
    lut->cols = cols;
    lut->group_size = group_size;
    lut->ngroups = (cols + group_size - 1) / group_size;
    lut->chunks_per_group = (group_size + SA_CHUNK_COLS - 1) / SA_CHUNK_COLS;
    int last_len = cols - (lut->ngroups - 1) * group_size;
    lut->last_chunks = (last_len + SA_CHUNK_COLS - 1) / SA_CHUNK_COLS;
    lut->nchunks = (lut->ngroups - 1) * lut->chunks_per_group + lut->last_chunks;
    lut->isa = resolved;
    lut->token_bytes = (size_t)lut->nchunks * SA_CHUNK_TABLE_BYTES;
    size_t per_token = (size_t)lut->ngroups * sizeof(float);
    lut->tables = alloc64(lut->token_bytes * (size_t)max_tokens);
    lut->scale = alloc64(per_token * (size_t)max_tokens);
    lut->xsum = alloc64(per_token * (size_t)max_tokens);
    if (!lut->tables || !lut->scale || !lut->xsum) {
        status = SA_ERR_MEMORY;
        goto done;
    }
done:
    if (status != SA_OK) {
        sa_lut_free(lut);
        lut = NULL;
    }
    if (err) *err = status;
    return lut;
}

void sa_lut_free(sa_lut *lut) {
    if (!lut) return;
    free(lut->tables);
    free(lut->scale);
    free(lut->xsum);
    free(lut);
}

/* This thread's scratch for building `lut`'s tables. Returns 0 when out of memory. */
static int scratch_get(const sa_lut *lut, sa_lut_scratch *s) {
    size_t padded_cols = (size_t)lut->chunks_per_group * SA_CHUNK_COLS;
    s->padded = sa_thread_scratch(SA_SCRATCH_LUT_PADDED, padded_cols * sizeof(float));
    s->sums = sa_thread_scratch(SA_SCRATCH_LUT_SUMS, padded_cols / 4 * 16 * sizeof(float));
    return s->padded && s->sums;
}

typedef void (*build_fn)(sa_lut *, sa_lut_scratch *, const float *, int);

static build_fn builder(const sa_lut *lut) {
    return lut->isa == SA_ISA_AVX512 ? sa_lut_build_token_avx512
           : lut->isa == SA_ISA_AVX2 ? sa_lut_build_token_avx2
                                     : sa_lut_build_token_scalar;
}

typedef struct {
    sa_lut *lut;
    float *x;
    int T;
    int n_tasks;
    const float *signs;
    size_t block;
    int status;
} build_job;

/* sa_rht on `rows` rows of the table's width, on the vector path of the table's instruction set
 * when the block fills whole vectors (same bits). Returns 0 for a rotation sa_rht rejects. */
static int rotate(const sa_lut *lut, float *x, int rows, size_t block, const float *signs) {
    const size_t n = (size_t)lut->cols;
    if (block == 0 || (block & (block - 1)) != 0 || n % block != 0) return 0;
    for (int r = 0; r < rows; r++) {
        if (lut->isa == SA_ISA_AVX512 && block >= 16) {
            sa_lut_rotate_avx512(x + (size_t)r * n, n, block, signs);
        } else if (lut->isa >= SA_ISA_AVX2 && block >= 8) {
            sa_lut_rotate_avx2(x + (size_t)r * n, n, block, signs);
        } else if (sa_rht(x + (size_t)r * n, 1, n, block, signs) != SA_RHT_OK) {
            return 0;
        }
    }
    return 1;
}

/* Task i rotates and builds a contiguous run of tokens. */
static void build_task(void *ctx, int task) {
    build_job *j = ctx;
    int t0 = (int)((long long)j->T * task / j->n_tasks), t1 = (int)((long long)j->T * (task + 1) / j->n_tasks);
    if (t0 == t1) return;
    sa_lut_scratch scratch;
    if (!scratch_get(j->lut, &scratch)) {
        __atomic_store_n(&j->status, SA_ERR_MEMORY, __ATOMIC_RELAXED);
        return;
    }
    const size_t cols = (size_t)j->lut->cols;
    if (j->signs && !rotate(j->lut, j->x + (size_t)t0 * cols, t1 - t0, j->block, j->signs)) {
        __atomic_store_n(&j->status, SA_ERR_ARGUMENT, __ATOMIC_RELAXED);
    }
    build_fn build = builder(j->lut);
    for (int t = t0; t < t1; t++) build(j->lut, &scratch, j->x + (size_t)t * cols, t);
}

/* Tokens a thread should build at least: below this a hand-out costs more than it saves. */
#define MIN_TOKENS_PER_TASK 4

int sa_lut_build_threaded(sa_lut *lut, float *x, int T, const float *signs, size_t rotation_block,
                          sa_threadpool *pool) {
    if (!lut || !x || T < 1 || T > lut->max_tokens) return SA_ERR_ARGUMENT;
    int threads = pool ? sa_threadpool_size(pool) : 1;
    int tasks = T / MIN_TOKENS_PER_TASK < 2 * threads ? T / MIN_TOKENS_PER_TASK : 2 * threads;
    build_job job = {lut, x, T, threads > 1 && tasks > 1 ? tasks : 1, signs, rotation_block, SA_OK};
    lut->tokens = 0;
    if (job.n_tasks > 1) {
        int status = sa_threadpool_run(pool, job.n_tasks, build_task, &job);
        if (status != SA_OK) return status;
    } else {
        build_task(&job, 0);
    }
    if (job.status == SA_OK) lut->tokens = T;
    return job.status;
}

int sa_lut_build(sa_lut *lut, const float *x, int T) {
    if (!lut || !x || T < 1 || T > lut->max_tokens) return SA_ERR_ARGUMENT;
    sa_lut_scratch scratch;
    if (!scratch_get(lut, &scratch)) return SA_ERR_MEMORY;
    build_fn build = builder(lut);
    for (int t = 0; t < T; t++) build(lut, &scratch, x + (size_t)t * lut->cols, t);
    lut->tokens = T;
    return SA_OK;
}

int sa_lut_tokens(const sa_lut *lut) { return lut ? lut->tokens : 0; }

size_t sa_lut_bytes(const sa_lut *lut) {
    if (!lut) return 0;
    return sizeof *lut + lut->token_bytes * (size_t)lut->max_tokens +
           2 * (size_t)lut->ngroups * sizeof(float) * (size_t)lut->max_tokens;
}

float sa_lut_scale(const sa_lut *lut, int t, int g) {
    if (!lut || t < 0 || t >= lut->tokens || g < 0 || g >= lut->ngroups) return 0.0f;
    return lut->scale[(size_t)t * lut->ngroups + g];
}

const float *sa_lut_group_activations(const sa_lut *lut, sa_lut_scratch *scratch, const float *x, int g, int *padded) {
    int first = g * lut->group_size;
    int len = lut->cols - first < lut->group_size ? lut->cols - first : lut->group_size;
    *padded = sa_chunks_of_group(lut->chunks_per_group, lut->last_chunks, lut->ngroups, g) *
              SA_CHUNK_COLS;
    if (len == *padded) return x + first;
    memcpy(scratch->padded, x + first, (size_t)len * sizeof(float));
    memset(scratch->padded + len, 0, (size_t)(*padded - len) * sizeof(float));
    return scratch->padded;
}

/* Rounds |v| < 2^22 to the nearest integer, ties to even, as the vector conversions do
 * (adding and removing 1.5 * 2^23 leaves no fraction bits to round into). */
static inline int round_even(float v) {
    float shifted = v + 0x1.8p23f;
    return (int)(shifted - 0x1.8p23f);
}

void sa_lut_build_token_scalar(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t) {
    int8_t *tables = lut->tables + (size_t)t * lut->token_bytes;
    for (int g = 0; g < lut->ngroups; g++) {
        int padded;
        const float *xg = sa_lut_group_activations(lut, scratch, x, g, &padded);
        int blocks = padded / 4;
        float m = 0.0f;
        for (int s = 0; s < blocks; s++) {
            const float *v = xg + 4 * s;
            float *e = scratch->sums + 16 * s;
            for (int i = 0; i < 16; i++) {
                float sum = (i & 1 ? v[0] : -v[0]) + (i & 2 ? v[1] : -v[1]);
                sum = sum + (i & 4 ? v[2] : -v[2]);
                sum = sum + (i & 8 ? v[3] : -v[3]);
                e[i] = sum;
                m = fabsf(sum) > m ? fabsf(sum) : m;
            }
        }
        float inverse = sa_table_inverse_step(m);
        int8_t *tg = tables + (size_t)g * lut->chunks_per_group * SA_CHUNK_TABLE_BYTES;
        for (int s = 0; s < blocks; s++) {
            int8_t *dst = tg + (s / 8) * SA_CHUNK_TABLE_BYTES + sa_block_table_offset(s % 8);
            for (int i = 0; i < 16; i++) dst[i] = (int8_t)round_even(scratch->sums[16 * s + i] * inverse);
        }
        float lanes[8] = {0};
        for (int c = 0; c < padded; c += 8) {
            for (int l = 0; l < 8; l++) lanes[l] = lanes[l] + xg[c + l];
        }
        lut->scale[(size_t)t * lut->ngroups + g] = sa_table_step(m);
        lut->xsum[(size_t)t * lut->ngroups + g] = sa_lane_tree8(lanes);
    }
}
