/* The fp16 output head: y[t][r] = sum_c w[r][c] * x[t][c].
 *
 * Each (row, token) is a 16-lane fused multiply-add chain folded as in float_order.h, so every
 * instruction set gives the same bits and a token's logits do not depend on the batch. Rows are
 * taken 4 at a time: converted from fp16 to fp32 once into a small buffer, then multiplied with
 * the activations of every token, 4 tokens (AVX2: 2) per pass, so the weights stream from memory
 * once per call however many tokens it serves. */

#include "float_order.h"
#include "ops_isa.h"
#include "shiftadd_cpu.h"
#include "shiftadd_dequant.h"
#include "shiftadd_ops.h"
#include "thread_scratch.h"

/* Rows per task: enough work per task to amortize the hand-out. */
#define ROWS_PER_TASK 128
#define TILE_ROWS 4
#define DIRECT_MAX 4

typedef struct {
    const uint16_t *w;
    int rows, cols, T;
    const float *x;
    float *y;
    int isa;
} head_job;

static void rows_scalar(const head_job *j, int r0, int r1) {
    const int chunks = (j->cols + SA_LANES - 1) / SA_LANES;
    for (int r = r0; r < r1; r++) {
        const uint16_t *wr = j->w + (size_t)r * j->cols;
        for (int t = 0; t < j->T; t++) {
            const float *xt = j->x + (size_t)t * j->cols;
            float lanes[SA_LANES] = {0};
            for (int c = 0; c < chunks; c++) {
                for (int l = 0; l < SA_LANES; l++) {
                    int i = c * SA_LANES + l;
                    lanes[l] = fmaf(i < j->cols ? sa_half_to_float(wr[i]) : 0.0f, i < j->cols ? xt[i] : 0.0f, lanes[l]);
                }
            }
            j->y[(size_t)t * j->rows + r] = sa_fold16(lanes);
        }
    }
}

#if defined(__x86_64__)
#include "float_order_x86.h"

/* Rows r0 ... r0 + TILE_ROWS - 1 (clamped to the last row) as fp32, each padded with zeros to
 * `stride` floats. */
TARGET256 static void convert_rows(const head_job *j, int r0, float *buf, int stride) {
    for (int i = 0; i < TILE_ROWS; i++) {
        int r = r0 + i < j->rows ? r0 + i : j->rows - 1;
        const uint16_t *src = j->w + (size_t)r * j->cols;
        float *dst = buf + (size_t)i * stride;
        int c = 0;
        for (; c + 8 <= j->cols; c += 8) _mm256_store_ps(dst + c, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(src + c))));
        for (; c < j->cols; c++) dst[c] = sa_half_to_float(src[c]);
        for (; c < stride; c++) dst[c] = 0.0f;
    }
}

/* Writes sums[i * stride_t + t] (row r0 + i, token t0 + t) into y for the rows and tokens that exist. */
static void store_tile(const head_job *j, const float *sums, int r0, int nrows, int t0, int tt, int stride_t) {
    for (int i = 0; i < nrows && r0 + i < j->rows; i++) {
        for (int t = 0; t < tt; t++) j->y[(size_t)(t0 + t) * j->rows + r0 + i] = sums[i * stride_t + t];
    }
}

/* AVX-512, up to 4 tokens: R rows x TT tokens (R * TT <= 16) read from fp16 directly, each
 * weight converted once and used by every token. The rows are read one after another: reading two
 * or four rows side by side measured 2-3 times slower, the hardware prefetcher apparently losing
 * track of streams interleaved within a page. */
INLINE TARGET512 void direct_512(const head_job *j, int r0, int r1, const int R, const int TT) {
    const int chunks = (j->cols + 15) / 16, full = j->cols / 16;
    for (int r = r0; r < r1; r += R) {
        __m512 acc[16];
        for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
        for (int i = 0; i < R; i++) {
            const uint16_t *w = j->w + (size_t)(r + i < r1 ? r + i : r1 - 1) * j->cols;
            int c = 0;
            for (; c < full; c++) {
                const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(w + 16 * c)));
                for (int t = 0; t < TT; t++) {
                    acc[i * TT + t] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(j->x + (size_t)t * j->cols + 16 * c), acc[i * TT + t]);
                }
            }
            if (c < chunks) {
                const __mmask16 m = mask16(j->cols - 16 * c);
                const __m512 wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + 16 * c));
                for (int t = 0; t < TT; t++) {
                    acc[i * TT + t] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, j->x + (size_t)t * j->cols + 16 * c), acc[i * TT + t]);
                }
            }
        }
        float sums[16];
        _mm512_storeu_ps(sums, fold_16x16(acc));
        store_tile(j, sums, r, r1 - r < R ? r1 - r : R, 0, TT, TT);
    }
}

TARGET512 static void direct_512_1(const head_job *j, int r0, int r1) { direct_512(j, r0, r1, 16, 1); }
TARGET512 static void direct_512_2(const head_job *j, int r0, int r1) { direct_512(j, r0, r1, 8, 2); }
TARGET512 static void direct_512_3(const head_job *j, int r0, int r1) { direct_512(j, r0, r1, 5, 3); }
TARGET512 static void direct_512_4(const head_job *j, int r0, int r1) { direct_512(j, r0, r1, 4, 4); }

/* Where the fp16 rows of the tile after the one at r0 start, or NULL when there is none. The
 * first token tile of each row tile prefetches them, two cache lines per 16 columns (4 rows of
 * 16 fp16 values), so they arrive while it computes instead of stalling the next conversion. */
static const char *next_rows(const head_job *j, int r0) {
    return r0 + 2 * TILE_ROWS <= j->rows ? (const char *)(j->w + (size_t)(r0 + TILE_ROWS) * j->cols) : NULL;
}

/* AVX-512, several tokens: 4 rows (converted into the buffer) x TT tokens. */
INLINE TARGET512 void tile_512(const head_job *j, const float *buf, int stride, int r0, int t0, const int TT) {
    const int chunks = (j->cols + 15) / 16;
    const char *ahead = t0 == 0 ? next_rows(j, r0) : NULL;
    const float *x[4];
    for (int t = 0; t < TT; t++) x[t] = j->x + (size_t)(t0 + t) * j->cols;
    __m512 acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
    for (int c = 0; c < chunks; c++) {
        const __mmask16 m = mask16(j->cols - 16 * c);
        __m512 xv[4];
        for (int t = 0; t < TT; t++) xv[t] = _mm512_maskz_loadu_ps(m, x[t] + 16 * c);
        if (ahead) {
            _mm_prefetch(ahead + 128 * c, _MM_HINT_T0);
            _mm_prefetch(ahead + 128 * c + 64, _MM_HINT_T0);
        }
        for (int i = 0; i < TILE_ROWS; i++) {
            const __m512 wv = _mm512_load_ps(buf + (size_t)i * stride + 16 * c);
            for (int t = 0; t < TT; t++) acc[i * 4 + t] = _mm512_fmadd_ps(wv, xv[t], acc[i * 4 + t]);
        }
    }
    float sums[16];
    _mm512_storeu_ps(sums, fold_16x16(acc));
    store_tile(j, sums, r0, TILE_ROWS, t0, TT, 4);
}

TARGET512 static void tile_512_4(const head_job *j, const float *b, int s, int r0, int t0) { tile_512(j, b, s, r0, t0, 4); }
TARGET512 static void tile_512_3(const head_job *j, const float *b, int s, int r0, int t0) { tile_512(j, b, s, r0, t0, 3); }
TARGET512 static void tile_512_2(const head_job *j, const float *b, int s, int r0, int t0) { tile_512(j, b, s, r0, t0, 2); }
TARGET512 static void tile_512_1(const head_job *j, const float *b, int s, int r0, int t0) { tile_512(j, b, s, r0, t0, 1); }

TARGET512 static void rows_avx512(const head_job *j, int r0, int r1, float *buf, int stride) {
    for (int r = r0; r < r1; r += TILE_ROWS) {
        convert_rows(j, r, buf, stride);
        int t0 = 0;
        for (; t0 + 4 <= j->T; t0 += 4) tile_512_4(j, buf, stride, r, t0);
        switch (j->T - t0) {
        case 3: tile_512_3(j, buf, stride, r, t0); break;
        case 2: tile_512_2(j, buf, stride, r, t0); break;
        case 1: tile_512_1(j, buf, stride, r, t0); break;
        default: break;
        }
    }
}

/* AVX2: 4 rows x TT (<= 2) tokens from the fp32 buffer; 16 lanes are two 8-lane halves. */
INLINE TARGET256 void tile_256(const head_job *j, const float *buf, int stride, int r0, int t0, const int TT) {
    const int chunks = (j->cols + 15) / 16;
    const char *ahead = t0 == 0 ? next_rows(j, r0) : NULL;
    const float *x[2];
    for (int t = 0; t < TT; t++) x[t] = j->x + (size_t)(t0 + t) * j->cols;
    __m256 lo[TILE_ROWS][2], hi[TILE_ROWS][2];
    for (int i = 0; i < TILE_ROWS; i++) {
        for (int t = 0; t < TT; t++) lo[i][t] = hi[i][t] = _mm256_setzero_ps();
    }
    for (int c = 0; c < chunks; c++) {
        const __m256i mlo = mask8(j->cols - 16 * c), mhi = mask8(j->cols - 16 * c - 8);
        if (ahead) {
            _mm_prefetch(ahead + 128 * c, _MM_HINT_T0);
            _mm_prefetch(ahead + 128 * c + 64, _MM_HINT_T0);
        }
        __m256 xlo[2], xhi[2];
        for (int t = 0; t < TT; t++) {
            xlo[t] = _mm256_maskload_ps(x[t] + 16 * c, mlo);
            xhi[t] = _mm256_maskload_ps(x[t] + 16 * c + 8, mhi);
        }
        for (int i = 0; i < TILE_ROWS; i++) {
            const float *w = buf + (size_t)i * stride + 16 * c;
            const __m256 wlo = _mm256_load_ps(w), whi = _mm256_load_ps(w + 8);
            for (int t = 0; t < TT; t++) {
                lo[i][t] = _mm256_fmadd_ps(wlo, xlo[t], lo[i][t]);
                hi[i][t] = _mm256_fmadd_ps(whi, xhi[t], hi[i][t]);
            }
        }
    }
    __m256 halves[8];
    for (int k = 0; k < 8; k++) halves[k] = _mm256_setzero_ps();
    for (int i = 0; i < TILE_ROWS; i++) {
        for (int t = 0; t < TT; t++) halves[i * 2 + t] = _mm256_add_ps(lo[i][t], hi[i][t]);
    }
    float sums[8];
    _mm256_storeu_ps(sums, fold_8x8(halves));
    store_tile(j, sums, r0, TILE_ROWS, t0, TT, 2);
}

TARGET256 static void tile_256_2(const head_job *j, const float *b, int s, int r0, int t0) { tile_256(j, b, s, r0, t0, 2); }
TARGET256 static void tile_256_1(const head_job *j, const float *b, int s, int r0, int t0) { tile_256(j, b, s, r0, t0, 1); }

TARGET256 static void rows_avx2(const head_job *j, int r0, int r1, float *buf, int stride) {
    for (int r = r0; r < r1; r += TILE_ROWS) {
        convert_rows(j, r, buf, stride);
        int t0 = 0;
        for (; t0 + 2 <= j->T; t0 += 2) tile_256_2(j, buf, stride, r, t0);
        if (t0 < j->T) tile_256_1(j, buf, stride, r, t0);
    }
}
#endif

static void head_task(void *ctx, int task) {
    const head_job *j = (const head_job *)ctx;
    int r0 = task * ROWS_PER_TASK;
    int r1 = r0 + ROWS_PER_TASK < j->rows ? r0 + ROWS_PER_TASK : j->rows;
#if defined(__x86_64__)
    if (j->isa != SA_ISA_SCALAR) {
        if (j->isa == SA_ISA_AVX512 && j->T <= DIRECT_MAX) {
            switch (j->T) {
            case 1: direct_512_1(j, r0, r1); break;
            case 2: direct_512_2(j, r0, r1); break;
            case 3: direct_512_3(j, r0, r1); break;
            default: direct_512_4(j, r0, r1); break;
            }
            return;
        }
        const int stride = (j->cols + 15) / 16 * 16;
        float *buf = sa_thread_scratch(SA_SCRATCH_HEAD_ROWS, (size_t)TILE_ROWS * stride * sizeof(float));
        if (!buf) {
            rows_scalar(j, r0, r1);
        } else if (j->isa == SA_ISA_AVX512) {
            rows_avx512(j, r0, r1, buf, stride);
        } else {
            rows_avx2(j, r0, r1, buf, stride);
        }
        return;
    }
#endif
    rows_scalar(j, r0, r1);
}

int sa_f16_matmul(const uint16_t *w, int rows, int cols, const float *x, int T, float *y,
                  sa_threadpool *pool, int isa) {
    if (!w || !x || !y || rows <= 0 || cols <= 0 || T <= 0) return SA_ERR_ARGUMENT;
    const int status = sa_ops_isa(&isa);
    if (status != SA_OK) return status;
    head_job job = {w, rows, cols, T, x, y, isa};
    int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    if (pool) return sa_threadpool_run(pool, tasks, head_task, &job);
    for (int i = 0; i < tasks; i++) head_task(&job, i);
    return SA_OK;
}
