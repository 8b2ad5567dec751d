#include "shiftadd_ops.h"

#include <math.h>
#include <string.h>

#include "shiftadd_cpu.h"
#include "shiftadd_dequant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* ---- fp16 matrix product (output head) ---- */

typedef struct {
    const uint16_t *w;
    int rows, cols, T;
    const float *x;
    float *y;
    int isa;
} f16_job;

/* Rows per task: enough work per task to amortize the hand-out. */
#define F16_ROWS_PER_TASK 256

static void f16_rows_scalar(const f16_job *j, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
        const uint16_t *wr = j->w + (size_t)r * j->cols;
        for (int t = 0; t < j->T; t++) {
            const float *xt = j->x + (size_t)t * j->cols;
            float acc[8] = {0};
            int c = 0;
            for (; c + 8 <= j->cols; c += 8)
                for (int k = 0; k < 8; k++) acc[k] += sa_half_to_float(wr[c + k]) * xt[c + k];
            float sum = 0;
            for (int k = 0; k < 8; k++) sum += acc[k];
            for (; c < j->cols; c++) sum += sa_half_to_float(wr[c]) * xt[c];
            j->y[(size_t)t * j->rows + r] = sum;
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c")))
static void f16_rows_avx2(const f16_job *j, int r0, int r1) {
    const int cols = j->cols;
    for (int r = r0; r < r1; r++) {
        const uint16_t *wr = j->w + (size_t)r * cols;
        for (int t = 0; t < j->T; t++) {
            const float *xt = j->x + (size_t)t * cols;
            __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
            int c = 0;
            for (; c + 16 <= cols; c += 16) {
                __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + c)));
                __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + c + 8)));
                acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xt + c), acc0);
                acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xt + c + 8), acc1);
            }
            __m256 acc = _mm256_add_ps(acc0, acc1);
            __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
            s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
            float sum = _mm_cvtss_f32(s);
            for (; c < cols; c++) sum += sa_half_to_float(wr[c]) * xt[c];
            j->y[(size_t)t * j->rows + r] = sum;
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,f16c")))
static void f16_rows_avx512(const f16_job *j, int r0, int r1) {
    const int cols = j->cols;
    for (int r = r0; r < r1; r++) {
        const uint16_t *wr = j->w + (size_t)r * cols;
        for (int t = 0; t < j->T; t++) {
            const float *xt = j->x + (size_t)t * cols;
            __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
            int c = 0;
            for (; c + 32 <= cols; c += 32) {
                __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wr + c)));
                __m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wr + c + 16)));
                acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xt + c), acc0);
                acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xt + c + 16), acc1);
            }
            float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
            for (; c < cols; c++) sum += sa_half_to_float(wr[c]) * xt[c];
            j->y[(size_t)t * j->rows + r] = sum;
        }
    }
}
#endif

static void f16_task(void *ctx, int task) {
    const f16_job *j = (const f16_job *)ctx;
    int r0 = task * F16_ROWS_PER_TASK;
    int r1 = r0 + F16_ROWS_PER_TASK < j->rows ? r0 + F16_ROWS_PER_TASK : j->rows;
#if defined(__x86_64__)
    if (j->isa == SA_ISA_AVX512) { f16_rows_avx512(j, r0, r1); return; }
    if (j->isa == SA_ISA_AVX2) { f16_rows_avx2(j, r0, r1); return; }
#endif
    f16_rows_scalar(j, r0, r1);
}

int sa_f16_matmul(const uint16_t *w, int rows, int cols, const float *x, int T, float *y,
                  sa_threadpool *pool, int isa) {
    if (!w || !x || !y || rows <= 0 || cols <= 0 || T <= 0) return SA_ERR_ARGUMENT;
    sa_isa best = sa_cpu_best_isa();
    if (isa < 0) isa = (int)best;
    if (isa > (int)best) return SA_ERR_ISA;
    f16_job job = {w, rows, cols, T, x, y, isa};
    int tasks = (rows + F16_ROWS_PER_TASK - 1) / F16_ROWS_PER_TASK;
    if (pool) return sa_threadpool_run(pool, tasks, f16_task, &job);
    for (int i = 0; i < tasks; i++) f16_task(&job, i);
    return SA_OK;
}

/* ---- element-wise ---- */

void sa_rmsnorm(const float *x, const float *gain, float *y, int T, int width, float eps) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * width;
        float *yt = y + (size_t)t * width;
        float acc[8] = {0};
        int i = 0;
        for (; i + 8 <= width; i += 8)
            for (int k = 0; k < 8; k++) acc[k] += xt[i + k] * xt[i + k];
        float sum = 0;
        for (int k = 0; k < 8; k++) sum += acc[k];
        for (; i < width; i++) sum += xt[i] * xt[i];
        const float scale = 1.0f / sqrtf(sum / (float)width + eps);
        for (i = 0; i < width; i++) yt[i] = xt[i] * scale * gain[i];
    }
}

void sa_swiglu(float *gate, const float *up, size_t count) {
    for (size_t i = 0; i < count; i++) {
        const float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void sa_rope(float *v, int heads, int head_dim, const float *cos_table, const float *sin_table, int interleaved) {
    const int half = head_dim / 2;
    for (int h = 0; h < heads; h++) {
        float *base = v + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
            const float x0 = base[a], x1 = base[b];
            base[a] = x0 * cos_table[i] - x1 * sin_table[i];
            base[b] = x0 * sin_table[i] + x1 * cos_table[i];
        }
    }
}

/* ---- paged attention ---- */

static float dot(const float *a, const float *b, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    float sum = 0;
    for (int k = 0; k < 8; k++) sum += acc[k];
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/* Attention of one query head over kv head `kvh` of a paged cache layer. */
static int attend_head(const float *qh, float *oh, int kvh, int kv_heads, int head_dim, const float *k_pool,
                       const float *v_pool, const int32_t *block_table, int block_size, int n_positions,
                       float scale, float *scores) {
    if (n_positions <= 0) return SA_ERR_ARGUMENT;
    const size_t kv_dim = (size_t)kv_heads * head_dim;
    float max = -INFINITY;
    for (int p = 0; p < n_positions; p++) {
        const float *k = k_pool + ((size_t)block_table[p / block_size] * block_size + p % block_size) * kv_dim + (size_t)kvh * head_dim;
        const float s = dot(qh, k, head_dim) * scale;
        scores[p] = s;
        if (s > max) max = s;
    }
    float total = 0;
    for (int p = 0; p < n_positions; p++) {
        scores[p] = expf(scores[p] - max);
        total += scores[p];
    }
    const float inv = 1.0f / total;
    for (int d = 0; d < head_dim; d++) oh[d] = 0;
    for (int p = 0; p < n_positions; p++) {
        const float *v = v_pool + ((size_t)block_table[p / block_size] * block_size + p % block_size) * kv_dim + (size_t)kvh * head_dim;
        const float w = scores[p] * inv;
        for (int d = 0; d < head_dim; d++) oh[d] += w * v[d];
    }
    return SA_OK;
}

int sa_attention_paged(const float *q, float *out, int heads, int kv_heads, int head_dim,
                       const float *k_pool, const float *v_pool, const int32_t *block_table,
                       int block_size, int n_positions, float scale, float *scores) {
    if (!q || !out || !k_pool || !v_pool || !block_table || !scores || heads <= 0 || kv_heads <= 0 ||
        heads % kv_heads != 0 || head_dim <= 0 || block_size <= 0 || n_positions <= 0)
        return SA_ERR_ARGUMENT;
    const int group = heads / kv_heads;
    for (int h = 0; h < heads; h++) {
        int rc = attend_head(q + (size_t)h * head_dim, out + (size_t)h * head_dim, h / group, kv_heads, head_dim,
                             k_pool, v_pool, block_table, block_size, n_positions, scale, scores);
        if (rc != SA_OK) return rc;
    }
    return SA_OK;
}

typedef struct {
    const float *q;
    float *out;
    int heads, kv_heads, head_dim, block_size, max_positions;
    const float *k_pool, *v_pool;
    const int32_t *const *tables;
    const int *n_positions;
    float scale;
    float *scores;
    int status;
} attention_job;

/* One task per (token, query head): a single decoded token still spreads its heads over the pool. */
static void attention_task(void *ctx, int task) {
    attention_job *j = (attention_job *)ctx;
    const int t = task / j->heads, h = task % j->heads, group = j->heads / j->kv_heads;
    const size_t width = (size_t)j->heads * j->head_dim, offset = (size_t)h * j->head_dim;
    if (attend_head(j->q + t * width + offset, j->out + t * width + offset, h / group, j->kv_heads, j->head_dim,
                    j->k_pool, j->v_pool, j->tables[t], j->block_size, j->n_positions[t], j->scale,
                    j->scores + ((size_t)t * j->heads + h) * j->max_positions) != SA_OK)
        __atomic_store_n(&j->status, SA_ERR_ARGUMENT, __ATOMIC_RELAXED);
}

int sa_attention_paged_batch(const float *q, float *out, int T, int heads, int kv_heads, int head_dim,
                             const float *k_pool, const float *v_pool, const int32_t *const *tables,
                             const int *n_positions, int block_size, float scale, float *scores,
                             int max_positions, sa_threadpool *pool) {
    if (!q || !out || !k_pool || !v_pool || !tables || !n_positions || !scores || T <= 0 || heads <= 0 ||
        kv_heads <= 0 || heads % kv_heads != 0 || head_dim <= 0 || block_size <= 0 ||
        (long)T * heads > SA_THREADPOOL_MAX_TASKS)
        return SA_ERR_ARGUMENT;
    for (int t = 0; t < T; t++)
        if (n_positions[t] > max_positions) return SA_ERR_ARGUMENT;
    attention_job job = {q, out, heads, kv_heads, head_dim, block_size, max_positions, k_pool, v_pool,
                         tables, n_positions, scale, scores, SA_OK};
    if (pool) {
        int rc = sa_threadpool_run(pool, T * heads, attention_task, &job);
        if (rc != SA_OK) return rc;
    } else {
        for (int i = 0; i < T * heads; i++) attention_task(&job, i);
    }
    return job.status;
}
