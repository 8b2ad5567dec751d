/* Attention over the paged KV cache: the public entry points, the split into tasks, and the
 * scalar kernel that defines the arithmetic the vector kernels reproduce. */

#include <math.h>

#include "attention_kernel.h"
#include "float_order.h"
#include "shiftadd_cpu.h"
#include "shiftadd_dequant.h"
#include "shiftadd_ops.h"
#include "thread_scratch.h"

static void softmax_weights_scalar(float *s, int n) {
    float m = s[0];
    for (int p = 1; p < n; p++) m = s[p] > m ? s[p] : m;
    float lanes[SA_LANES] = {0};
    for (int p = 0; p < n; p++) {
        s[p] = sa_exp_nonpositive(s[p] - m);
        lanes[p % SA_LANES] = lanes[p % SA_LANES] + s[p];
    }
    const float inv = 1.0f / sa_fold16(lanes);
    for (int p = 0; p < n; p++) s[p] = s[p] * inv;
}

/* Element i of a cached row of fp16 (half) or fp32 values. */
static inline float kv_value(const void *row, int i, int half) {
    return half ? sa_half_to_float(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

static void attend_kv_head_scalar(const sa_attention_args *a) {
    const int D = a->head_dim, chunks = (D + SA_LANES - 1) / SA_LANES;
    for (int h = 0; h < a->nh; h++) {
        const float *qh = a->q + (size_t)h * D;
        float *s = a->scores + (size_t)h * a->scores_stride;
        sa_positions it = sa_positions_start(a);
        for (int p = 0; p < a->n; p++) {
            const void *k = sa_kv_at(a->k, sa_positions_next(&it), a->half);
            float lanes[SA_LANES] = {0};
            for (int c = 0; c < chunks; c++) {
                for (int l = 0; l < SA_LANES; l++) {
                    int i = c * SA_LANES + l;
                    lanes[l] = fmaf(i < D ? qh[i] : 0.0f, i < D ? kv_value(k, i, a->half) : 0.0f, lanes[l]);
                }
            }
            s[p] = sa_fold16(lanes) * a->scale;
        }
        softmax_weights_scalar(s, a->n);
        float *o = a->out + (size_t)h * D;
        for (int d = 0; d < D; d++) o[d] = 0.0f;
        it = sa_positions_start(a);
        for (int p = 0; p < a->n; p++) {
            const void *v = sa_kv_at(a->v, sa_positions_next(&it), a->half);
            for (int d = 0; d < D; d++) o[d] = fmaf(s[p], kv_value(v, d, a->half), o[d]);
        }
    }
}

void sa_attend_scalar(const sa_attention_args *a) {
    for (int g = 0; g < a->nkv; g++) {
        const sa_attention_args one = sa_attention_kv_head(a, g);
        attend_kv_head_scalar(&one);
    }
}

typedef void (*attend_fn)(const sa_attention_args *);

/* The kernel for `isa` (-1: sa_cpu_best_isa()), or NULL above that level. */
static attend_fn kernel_for(int isa) {
    int best = (int)sa_cpu_best_isa();
    if (isa < 0) isa = best;
    if (isa > best) return NULL;
    switch (isa) {
    case SA_ISA_AVX512: return sa_attend_avx512;
    case SA_ISA_AVX2: return sa_attend_avx2;
    case SA_ISA_SCALAR: return sa_attend_scalar;
    default: return NULL;
    }
}

int sa_attention_paged(const float *q, float *out, int heads, int kv_heads, int head_dim,
                       const float *k_pool, const float *v_pool, const int32_t *block_table,
                       int block_size, int n_positions, float scale, float *scores) {
    if (!q || !out || !k_pool || !v_pool || !block_table || !scores || heads <= 0 || kv_heads <= 0 ||
        heads % kv_heads != 0 || head_dim <= 0 || block_size <= 0 || n_positions <= 0)
        return SA_ERR_ARGUMENT;
    attend_fn attend = kernel_for(-1);
    const int group = heads / kv_heads;
    const size_t kv_dim = (size_t)kv_heads * head_dim;
    for (int h = 0; h < heads; h++) {
        /* One head at a time: the scratch holds one row of scores. */
        sa_attention_args a = {q + (size_t)h * head_dim, out + (size_t)h * head_dim, scores, 0, 1, 1, head_dim,
                               k_pool + (size_t)(h / group) * head_dim, v_pool + (size_t)(h / group) * head_dim, 0,
                               kv_dim, block_table, block_size, n_positions, scale, 0};
        attend(&a);
    }
    return SA_OK;
}

typedef struct {
    attend_fn attend;
    const float *q;
    float *out;
    int heads, kv_heads, head_dim, block_size;
    int whole;    /* one task per token, over all its kv heads (else one per (token, kv head, run)) */
    int parts;    /* tasks per (token, kv head): its query heads split in this many runs */
    int per_part; /* query heads per run */
    const void *k_pool, *v_pool;
    int half;
    const int32_t *const *tables;
    const int *n_positions;
    int window;
    float scale;
    int status;
} attention_job;

/* Task = a token (all its heads) or (token, kv head, run of that kv head's query heads): the
 * heads of a kv head read each cached key and value once between them, and a whole token reads
 * each cached row (all kv heads) at once. */
static void attention_task(void *ctx, int task) {
    attention_job *j = (attention_job *)ctx;
    const int group = j->heads / j->kv_heads;
    int t = task, kvh = 0, h0 = 0, nh = group, nkv = j->kv_heads;
    if (!j->whole) {
        const int part = task % j->parts;
        kvh = task / j->parts % j->kv_heads;
        t = task / j->parts / j->kv_heads;
        h0 = kvh * group + part * j->per_part;
        nh = h0 + j->per_part < (kvh + 1) * group ? j->per_part : (kvh + 1) * group - h0;
        nkv = 1;
    }
    if (nh <= 0) return;
    const int first = j->window > 0 && j->n_positions[t] > j->window ? j->n_positions[t] - j->window : 0;
    const int n = j->n_positions[t] - first;
    float *scores = sa_thread_scratch(SA_SCRATCH_SCORES, (size_t)nkv * (size_t)nh * (size_t)n * sizeof(float));
    if (!scores) {
        __atomic_store_n(&j->status, SA_ERR_MEMORY, __ATOMIC_RELAXED);
        return;
    }
    const size_t width = (size_t)j->heads * j->head_dim, offset = (size_t)h0 * j->head_dim;
    sa_attention_args a = {j->q + t * width + offset, j->out + t * width + offset, scores, (size_t)n,
                           nh, nkv, j->head_dim, sa_kv_at(j->k_pool, (size_t)kvh * j->head_dim, j->half),
                           sa_kv_at(j->v_pool, (size_t)kvh * j->head_dim, j->half), j->half,
                           (size_t)j->kv_heads * j->head_dim, j->tables[t],
                           j->block_size, n, j->scale, first};
    j->attend(&a);
}

int sa_attention_paged_batch(const float *q, float *out, int T, int heads, int kv_heads, int head_dim,
                             const void *k_pool, const void *v_pool, int kv_type, const int32_t *const *tables,
                             const int *n_positions, int window, int block_size, float scale, sa_threadpool *pool,
                             int isa) {
    if (!q || !out || !k_pool || !v_pool || (kv_type != SA_KV_F32 && kv_type != SA_KV_F16) || !tables ||
        !n_positions || window < 0 || T <= 0 || heads <= 0 || kv_heads <= 0 ||
        heads % kv_heads != 0 || head_dim <= 0 || block_size <= 0 || (long)T * heads > SA_THREADPOOL_MAX_TASKS)
        return SA_ERR_ARGUMENT;
    for (int t = 0; t < T; t++) {
        if (!tables[t] || n_positions[t] <= 0) return SA_ERR_ARGUMENT;
    }
    attend_fn attend = kernel_for(isa);
    if (!attend) return isa > SA_ISA_AVX512 ? SA_ERR_ARGUMENT : SA_ERR_ISA;
    /* Enough tasks to keep every thread busy: a token per task when there are many, else a
     * (token, kv head) pair, and a kv head's query heads split when there are few pairs. The
     * split does not change any result. */
    const int group = heads / kv_heads, threads = pool ? sa_threadpool_size(pool) : 1;
    const long pairs = (long)T * kv_heads;
    const int whole = T >= 4 * threads;
    int parts = (int)((4L * threads + pairs - 1) / pairs);
    parts = whole || parts < 1 ? 1 : parts > group ? group : parts;
    attention_job job = {attend, q, out, heads, kv_heads, head_dim, block_size, whole, parts, (group + parts - 1) / parts,
                         k_pool, v_pool, kv_type == SA_KV_F16, tables, n_positions, window, scale, SA_OK};
    const int n_tasks = whole ? T : (int)(pairs * parts);
    if (pool && threads > 1) {
        int status = sa_threadpool_run(pool, n_tasks, attention_task, &job);
        if (status != SA_OK) return status;
    } else {
        for (int i = 0; i < n_tasks; i++) attention_task(&job, i);
    }
    return job.status;
}

void sa_kv_store_half(uint16_t *dst, const float *src, size_t n) {
    size_t i = 0;
#if defined(__x86_64__)
    if (sa_cpu_best_isa() >= SA_ISA_AVX2) i = sa_kv_store_half_f16c(dst, src, n);
#endif
    for (; i < n; i++) dst[i] = sa_float_to_half(fminf(fmaxf(src[i], -SA_HALF_MAX), SA_HALF_MAX));
}
