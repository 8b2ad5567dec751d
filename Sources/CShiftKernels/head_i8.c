/* The int8 output head: y[t][r] = dot(wq[r], xq[t]) * (xscale[t] * wscale[r]).
 *
 * The head is the largest single matrix of a small model (vocabulary x width) and is read for
 * every token: in fp16 it costs as many bytes per token as all 3-bit projections together, and at
 * batch 16 its fp32 multiply-adds become a third of a step. In int8 it is half the bytes, and
 * VNNI does 64 multiply-adds per instruction where fp32 does 16.
 *
 * Rows and tokens are first rotated by the same randomized block Walsh-Hadamard transform (R is
 * orthonormal, so (W R^T)(R x) = W x): a final hidden state has a few channels far larger than the
 * rest, and one int8 scale per token would flatten all others to a few steps. Rotated, the int8
 * head moves perplexity by hundredths of a percent; unrotated by most of a percent.
 *
 * Rows are quantized once with one scale per row, tokens per call with one scale per token; the
 * dot products are exact 32-bit integers (|dot| <= cols * 255 * 127 < 2^31), so every instruction
 * set and every batch gives the same bits. VNNI multiplies unsigned by signed bytes, so the
 * AVX-512 path adds 128 to each activation and subtracts 128 * (row sum) afterwards. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_isa.h"
#include "shiftadd_dequant.h"
#include "shiftadd_hadamard.h"
#include "shiftadd_ops.h"
#include "thread_scratch.h"

/* Columns are padded with zero weights to whole 64-byte vectors. */
#define COL_ALIGN 64
#define ROWS_PER_TASK 256
#define MAX_COLS 65536

/* Largest rotation block: a power of two dividing the width, at most this. */
#define MAX_BLOCK 64

struct sa_i8_head {
    int rows, cols, stride;
    size_t block;    /* rotation block */
    float *signs;    /* [cols] */
    int8_t *w;       /* [rows][stride] */
    float *scale;    /* [rows] */
    int32_t *rowsum; /* [rows] */
};

/* q = rint(v * inverse) in [-127, 127]; inverse = 127 / (largest magnitude). */
static int8_t quantize(float v, float inverse) {
    float q = rintf(v * inverse);
    return (int8_t)(q > 127.0f ? 127 : q < -127.0f ? -127 : (int)q);
}

sa_i8_head *sa_i8_head_create(int rows, int cols, uint64_t seed, int *err) {
    int e = SA_OK;
    sa_i8_head *h = NULL;
    if (rows <= 0 || cols <= 0 || cols > MAX_COLS) {
        e = SA_ERR_ARGUMENT;
    } else if (!(h = calloc(1, sizeof *h))) {
        e = SA_ERR_MEMORY;
    } else {
        h->rows = rows;
        h->cols = cols;
        h->stride = (cols + COL_ALIGN - 1) / COL_ALIGN * COL_ALIGN;
        h->block = 1;
        while (h->block < MAX_BLOCK && cols % (int)(2 * h->block) == 0) h->block *= 2;
        h->signs = malloc((size_t)cols * sizeof(float));
        h->w = aligned_alloc(64, (size_t)rows * (size_t)h->stride);
        h->scale = calloc((size_t)rows, sizeof(float));
        h->rowsum = calloc((size_t)rows, sizeof(int32_t));
        if (!h->signs || !h->w || !h->scale || !h->rowsum) {
            sa_i8_head_free(h);
            h = NULL;
            e = SA_ERR_MEMORY;
        } else {
            memset(h->w, 0, (size_t)rows * (size_t)h->stride);
            sa_rht_signs(seed, h->signs, (size_t)cols);
        }
    }
    if (err) *err = e;
    return h;
}

void sa_i8_head_free(sa_i8_head *h) {
    if (!h) return;
    free(h->signs);
    free(h->w);
    free(h->scale);
    free(h->rowsum);
    free(h);
}

size_t sa_i8_head_bytes(const sa_i8_head *h) {
    return h ? (size_t)h->rows * ((size_t)h->stride + sizeof(float) + sizeof(int32_t)) + (size_t)h->cols * sizeof(float) : 0;
}

/* Quantizes one rotated row into row r. */
static void quantize_row(sa_i8_head *h, int r, const float *src) {
    float largest = 0.0f;
    for (int c = 0; c < h->cols; c++) {
        float a = fabsf(src[c]);
        if (a > largest) largest = a;
    }
    int8_t *dst = h->w + (size_t)r * (size_t)h->stride;
    int32_t sum = 0;
    if (largest > 0.0f) {
        const float inverse = 127.0f / largest;
        for (int c = 0; c < h->cols; c++) {
            dst[c] = quantize(src[c], inverse);
            sum += dst[c];
        }
    }
    h->scale[r] = largest / 127.0f;
    h->rowsum[r] = sum;
}

int sa_i8_head_quantize(sa_i8_head *h, const uint16_t *w, int r0, int r1) {
    if (!h || !w || r0 < 0 || r1 > h->rows || r0 > r1) return SA_ERR_ARGUMENT;
    float *row = malloc((size_t)h->cols * sizeof(float));
    if (!row) return SA_ERR_MEMORY;
    int status = SA_OK;
    for (int r = r0; r < r1 && status == SA_OK; r++) {
        const uint16_t *src = w + (size_t)(r - r0) * (size_t)h->cols;
        for (int c = 0; c < h->cols; c++) {
            row[c] = sa_half_to_float(src[c]);
            if (!(fabsf(row[c]) <= 3.4e38f)) status = SA_ERR_ARGUMENT; /* NaN or infinite weight */
        }
        if (status == SA_OK) {
            sa_rht(row, 1, (size_t)h->cols, h->block, h->signs);
            quantize_row(h, r, row);
        }
    }
    free(row);
    return status;
}

int sa_i8_head_load(sa_i8_head *h, const int8_t *q, const float *scale, int r0, int r1) {
    if (!h || !q || !scale || r0 < 0 || r1 > h->rows || r0 > r1) return SA_ERR_ARGUMENT;
    for (int r = r0; r < r1; r++) {
        const float s = scale[r - r0];
        if (!(s >= 0.0f && s <= 3.4e38f)) return SA_ERR_ARGUMENT; /* negative, NaN or infinite */
        const int8_t *src = q + (size_t)(r - r0) * (size_t)h->cols;
        int8_t *dst = h->w + (size_t)r * (size_t)h->stride;
        int32_t sum = 0;
        for (int c = 0; c < h->cols; c++) {
            if (src[c] == -128) return SA_ERR_ARGUMENT;
            dst[c] = src[c];
            sum += src[c];
        }
        h->scale[r] = s;
        h->rowsum[r] = sum;
    }
    return SA_OK;
}

int sa_i8_head_export(const sa_i8_head *h, int8_t *q, float *scale, int r0, int r1) {
    if (!h || !q || !scale || r0 < 0 || r1 > h->rows || r0 > r1) return SA_ERR_ARGUMENT;
    for (int r = r0; r < r1; r++) {
        memcpy(q + (size_t)(r - r0) * (size_t)h->cols, h->w + (size_t)r * (size_t)h->stride, (size_t)h->cols);
        scale[r - r0] = h->scale[r];
    }
    return SA_OK;
}

int sa_i8_head_row(const sa_i8_head *h, int r, float *out) {
    if (!h || !out || r < 0 || r >= h->rows) return SA_ERR_ARGUMENT;
    const int8_t *q = h->w + (size_t)r * (size_t)h->stride;
    for (int c = 0; c < h->cols; c++) out[c] = (float)q[c] * h->scale[r];
    sa_rht_inverse(out, 1, (size_t)h->cols, h->block, h->signs);
    return SA_OK;
}

/* Tokens quantized for one call: xq (signed, for the scalar and AVX2 paths), xu = xq + 128 (for
 * VNNI), both [T][stride] with zero padding; scale[t] is NaN when token t is not finite. */
typedef struct {
    const sa_i8_head *h;
    int T;
    const int8_t *xq;
    const uint8_t *xu;
    const float *xscale;
    float *y;
    int isa;
} i8_job;

/* Rotates each token into `rotated` ([T][cols]) and quantizes it into xq, and into xu when it is
 * not NULL (only the VNNI path reads it). */
static void quantize_tokens(const sa_i8_head *h, const float *x, int T, float *rotated, int8_t *xq, uint8_t *xu,
                            float *scale) {
    memcpy(rotated, x, (size_t)T * (size_t)h->cols * sizeof(float));
    sa_rht(rotated, (size_t)T, (size_t)h->cols, h->block, h->signs);
    for (int t = 0; t < T; t++) {
        const float *xt = rotated + (size_t)t * (size_t)h->cols;
        int8_t *q = xq + (size_t)t * (size_t)h->stride;
        float largest = 0.0f;
        int finite = 1;
        for (int c = 0; c < h->cols; c++) {
            float a = fabsf(xt[c]);
            if (!(a <= 3.4e38f)) finite = 0;
            else if (a > largest) largest = a;
        }
        memset(q, 0, (size_t)h->stride);
        if (finite && largest > 0.0f) {
            const float inverse = 127.0f / largest;
            for (int c = 0; c < h->cols; c++) q[c] = quantize(xt[c], inverse);
        }
        if (xu) {
            uint8_t *u = xu + (size_t)t * (size_t)h->stride;
            for (int c = 0; c < h->stride; c++) u[c] = (uint8_t)(q[c] + 128);
        }
        scale[t] = finite ? largest / 127.0f : NAN;
    }
}

static void store(const i8_job *j, int r, int t, int32_t dot) {
    j->y[(size_t)t * (size_t)j->h->rows + (size_t)r] = (float)dot * (j->xscale[t] * j->h->scale[r]);
}

static void rows_scalar(const i8_job *j, int r0, int r1) {
    const sa_i8_head *h = j->h;
    for (int r = r0; r < r1; r++) {
        const int8_t *w = h->w + (size_t)r * (size_t)h->stride;
        for (int t = 0; t < j->T; t++) {
            const int8_t *x = j->xq + (size_t)t * (size_t)h->stride;
            int32_t dot = 0;
            for (int c = 0; c < h->cols; c++) dot += (int32_t)w[c] * (int32_t)x[c];
            store(j, r, t, dot);
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#define TARGET512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define TARGET256 __attribute__((target("avx2")))

/* Lane j of the result is the sum of the 16 lanes of a[j] (integer sums: any order is exact). */
TARGET512 static inline __m512i fold_16x16_epi32(const __m512i a[16]) {
    __m512i b[8], c[4], d[2];
    for (int j = 0; j < 8; j++) {
        b[j] = _mm512_add_epi32(_mm512_shuffle_i32x4(a[j], a[j + 8], 0x44), _mm512_shuffle_i32x4(a[j], a[j + 8], 0xEE));
    }
    for (int j = 0; j < 4; j++) {
        c[j] = _mm512_add_epi32(_mm512_shuffle_i32x4(b[j], b[j + 4], 0x88), _mm512_shuffle_i32x4(b[j], b[j + 4], 0xDD));
    }
    for (int j = 0; j < 2; j++) {
        __m512 lo = _mm512_shuffle_ps(_mm512_castsi512_ps(c[j]), _mm512_castsi512_ps(c[j + 2]), 0x44);
        __m512 hi = _mm512_shuffle_ps(_mm512_castsi512_ps(c[j]), _mm512_castsi512_ps(c[j + 2]), 0xEE);
        d[j] = _mm512_add_epi32(_mm512_castps_si512(lo), _mm512_castps_si512(hi));
    }
    __m512 lo = _mm512_shuffle_ps(_mm512_castsi512_ps(d[0]), _mm512_castsi512_ps(d[1]), 0x88);
    __m512 hi = _mm512_shuffle_ps(_mm512_castsi512_ps(d[0]), _mm512_castsi512_ps(d[1]), 0xDD);
    __m512i e = _mm512_add_epi32(_mm512_castps_si512(lo), _mm512_castps_si512(hi));
    const __m512i order = _mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15);
    return _mm512_permutexvar_epi32(order, e);
}

/* R rows x TT tokens (R * TT <= 16), rows r ... r + R - 1 clamped to r1 - 1. With one token the
 * rows are read one after another (one sequential stream); with more, chunk by chunk so that
 * each token's activations are loaded once per chunk for all R rows. */
INLINE TARGET512 void tile_512(const i8_job *j, int r, int r1, const int R, const int TT) {
    const sa_i8_head *h = j->h;
    const int chunks = h->stride / 64;
    const int8_t *w[16];
    const uint8_t *x[16];
    for (int i = 0; i < R; i++) w[i] = h->w + (size_t)(r + i < r1 ? r + i : r1 - 1) * (size_t)h->stride;
    for (int t = 0; t < TT; t++) x[t] = j->xu + (size_t)t * (size_t)h->stride;
    __m512i acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_si512();
    if (TT == 1) {
        for (int i = 0; i < R; i++) {
            for (int c = 0; c < chunks; c++) {
                acc[i] = _mm512_dpbusd_epi32(acc[i], _mm512_load_si512(x[0] + 64 * c), _mm512_load_si512(w[i] + 64 * c));
            }
        }
    } else {
        for (int c = 0; c < chunks; c++) {
            __m512i xv[16];
            for (int t = 0; t < TT; t++) xv[t] = _mm512_load_si512(x[t] + 64 * c);
            for (int i = 0; i < R; i++) {
                const __m512i wv = _mm512_load_si512(w[i] + 64 * c);
                for (int t = 0; t < TT; t++) acc[i * TT + t] = _mm512_dpbusd_epi32(acc[i * TT + t], xv[t], wv);
            }
        }
    }
    int32_t sums[16];
    _mm512_storeu_si512(sums, fold_16x16_epi32(acc));
    for (int i = 0; i < R && r + i < r1; i++) {
        for (int t = 0; t < TT; t++) store(j, r + i, t, sums[i * TT + t] - 128 * h->rowsum[r + i]);
    }
}

TARGET512 static void tile_512_16x1(const i8_job *j, int r, int r1) { tile_512(j, r, r1, 16, 1); }
TARGET512 static void tile_512_8x2(const i8_job *j, int r, int r1) { tile_512(j, r, r1, 8, 2); }
TARGET512 static void tile_512_5x3(const i8_job *j, int r, int r1) { tile_512(j, r, r1, 5, 3); }
TARGET512 static void tile_512_4x4(const i8_job *j, int r, int r1) { tile_512(j, r, r1, 4, 4); }
TARGET512 static void tile_512_4x3(const i8_job *j, int r, int r1) { tile_512(j, r, r1, 4, 3); }
TARGET512 static void tile_512_4x2(const i8_job *j, int r, int r1) { tile_512(j, r, r1, 4, 2); }
TARGET512 static void tile_512_4x1(const i8_job *j, int r, int r1) { tile_512(j, r, r1, 4, 1); }

/* A copy of the job whose tokens start at t0. */
static i8_job from_token(const i8_job *j, int t0, int TT) {
    i8_job k = *j;
    const size_t stride = (size_t)j->h->stride;
    k.T = TT;
    k.xq += (size_t)t0 * stride;
    k.xu += (size_t)t0 * stride;
    k.xscale += t0;
    k.y += (size_t)t0 * (size_t)j->h->rows;
    return k;
}

TARGET512 static void rows_avx512(const i8_job *j, int r0, int r1) {
    switch (j->T) {
    case 1: for (int r = r0; r < r1; r += 16) tile_512_16x1(j, r, r1); return;
    case 2: for (int r = r0; r < r1; r += 8) tile_512_8x2(j, r, r1); return;
    case 3: for (int r = r0; r < r1; r += 5) tile_512_5x3(j, r, r1); return;
    default: break;
    }
    /* 4 rows at a time against every group of 4 tokens, so the rows stay in L1 meanwhile. */
    for (int r = r0; r < r1; r += 4) {
        const int r4 = r + 4 < r1 ? r + 4 : r1;
        int t0 = 0;
        for (; t0 + 4 <= j->T; t0 += 4) {
            i8_job k = from_token(j, t0, 4);
            tile_512_4x4(&k, r, r4);
        }
        if (t0 < j->T) {
            i8_job k = from_token(j, t0, j->T - t0);
            switch (k.T) {
            case 1: tile_512_4x1(&k, r, r4); break;
            case 2: tile_512_4x2(&k, r, r4); break;
            default: tile_512_4x3(&k, r, r4); break;
            }
        }
    }
}

/* AVX2 has no VNNI: |x| (unsigned) times w with x's sign (vpsignb), pairs added to 16 bits
 * (at most 2 * 127 * 127, no saturation), then to 32 bits. One row, up to 4 tokens. */
INLINE TARGET256 void row_256(const i8_job *j, int r, int t0, const int TT) {
    const sa_i8_head *h = j->h;
    const int chunks = h->stride / 32;
    const int8_t *w = h->w + (size_t)r * (size_t)h->stride;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[4];
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_si256();
    for (int c = 0; c < chunks; c++) {
        const __m256i wv = _mm256_load_si256((const __m256i *)(const void *)(w + 32 * c));
        for (int t = 0; t < TT; t++) {
            const __m256i xv = _mm256_load_si256((const __m256i *)(const void *)(j->xq + (size_t)(t0 + t) * (size_t)h->stride + 32 * c));
            const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(xv), _mm256_sign_epi8(wv, xv));
            acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(pairs, ones));
        }
    }
    for (int t = 0; t < TT; t++) {
        int32_t lanes[8];
        _mm256_storeu_si256((__m256i *)(void *)lanes, acc[t]);
        int32_t dot = 0;
        for (int l = 0; l < 8; l++) dot += lanes[l];
        store(j, r, t0 + t, dot);
    }
}

TARGET256 static void row_256_4(const i8_job *j, int r, int t0) { row_256(j, r, t0, 4); }
TARGET256 static void row_256_1(const i8_job *j, int r, int t0) { row_256(j, r, t0, 1); }

TARGET256 static void rows_avx2(const i8_job *j, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
        int t0 = 0;
        for (; t0 + 4 <= j->T; t0 += 4) row_256_4(j, r, t0);
        for (; t0 < j->T; t0++) row_256_1(j, r, t0);
    }
}
#endif

static void head_task(void *ctx, int task) {
    const i8_job *j = (const i8_job *)ctx;
    int r0 = task * ROWS_PER_TASK;
    int r1 = r0 + ROWS_PER_TASK < j->h->rows ? r0 + ROWS_PER_TASK : j->h->rows;
#if defined(__x86_64__)
    if (j->isa == SA_ISA_AVX512) {
        rows_avx512(j, r0, r1);
        return;
    }
    if (j->isa == SA_ISA_AVX2) {
        rows_avx2(j, r0, r1);
        return;
    }
#endif
    rows_scalar(j, r0, r1);
}

int sa_i8_head_apply(const sa_i8_head *h, const float *x, int T, float *y, sa_threadpool *pool, int isa) {
    if (!h || !x || !y || T <= 0) return SA_ERR_ARGUMENT;
    const int status = sa_ops_isa(&isa);
    if (status != SA_OK) return status;
    const size_t stride = (size_t)h->stride;
    uint8_t *scratch = sa_thread_scratch(SA_SCRATCH_HEAD_TOKENS, (size_t)T * (2 * stride + sizeof(float) * (1 + stride)));
    if (!scratch) return SA_ERR_MEMORY;
    int8_t *xq = (int8_t *)scratch;
    uint8_t *xu = scratch + (size_t)T * stride;
    float *rotated = (float *)(void *)(scratch + 2 * (size_t)T * stride);
    float *xscale = rotated + (size_t)T * stride;
    quantize_tokens(h, x, T, rotated, xq, isa == SA_ISA_AVX512 ? xu : NULL, xscale);
    i8_job job = {h, T, xq, xu, xscale, y, isa};
    int tasks = (h->rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    if (pool) return sa_threadpool_run(pool, tasks, head_task, &job);
    for (int i = 0; i < tasks; i++) head_task(&job, i);
    return SA_OK;
}
