/* AVX-512 and AVX2 attention kernels: the arithmetic of sa_attend_scalar (attention_kernel.h),
 * vectorized.
 *
 * Scores: each cached key is a 16-lane fused multiply-add chain with the query; 16 chains (AVX-512:
 * 8 positions of two heads; AVX2: 8 positions) are then folded together by a transposing
 * reduction, which performs the fixed lane tree of sa_fold16 for every chain at once. Weighted values: each output element
 * is one fused multiply-add chain over positions; a run of query heads shares every value load.
 * The AVX-512 kernel reads all kv heads of a call row by row and prefetches; the AVX2 one takes
 * the kv heads one after another.
 * Every kernel comes in two forms, for fp16 pools (the engine's) and fp32 ones (the reference's). */

#include "attention_kernel.h"

#if defined(__x86_64__) || defined(__i386__)
#include "float_order_x86.h"

/* ---- AVX-512 ---- */

/* Elements [i, i + 16) of a cached row, those past the mask as zeros. */
INLINE TARGET512 __m512 load_512(const void *row, int i, __mmask16 m, const int HALF) {
    if (HALF) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)row + i));
    return _mm512_maskz_loadu_ps(m, (const float *)row + i);
}

/* Stores the first `count` lanes of the low (hi = 0) or high half of v at dst. */
INLINE TARGET512 void store_half_512(float *dst, __m512 v, int hi, int count) {
    const __m256 half = hi ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)) : _mm512_castps512_ps256(v);
    _mm256_mask_storeu_ps(dst, (__mmask8)mask16(count), half);
}

/* Scores of HN (<= 3) consecutive heads from h0, served by kv head g, at the 8 positions p0 ... whose
 * cached rows (all kv heads) start at rows: each key chunk is loaded (and converted) once for all
 * HN heads. Two heads' 8 chains fill one fold of 16. */
INLINE TARGET512 void scores_512(const sa_attention_args *a, const void *const rows[8], int p0, int count, int g, int h0,
                                 const int HN, const int HALF) {
    const int D = a->head_dim, chunks = (D + 15) / 16;
    const size_t at = (size_t)g * (size_t)D;
    __m512 acc[3][8];
    for (int h = 0; h < HN; h++) {
        for (int j = 0; j < 8; j++) acc[h][j] = _mm512_setzero_ps();
    }
    for (int c = 0; c < chunks; c++) {
        const __mmask16 m = mask16(D - 16 * c);
        __m512 qv[3];
        for (int h = 0; h < HN; h++) qv[h] = _mm512_maskz_loadu_ps(m, a->q + (size_t)(h0 + h) * D + 16 * c);
        for (int j = 0; j < 8; j++) {
            const __m512 kv = load_512(sa_kv_at(rows[j], at, HALF), 16 * c, m, HALF);
            for (int h = 0; h < HN; h++) acc[h][j] = _mm512_fmadd_ps(qv[h], kv, acc[h][j]);
        }
    }
    const __m512 scale = _mm512_set1_ps(a->scale);
    for (int h = 0; h < HN; h += 2) {
        __m512 pair[16];
        for (int j = 0; j < 8; j++) {
            pair[j] = acc[h][j];
            pair[8 + j] = h + 1 < HN ? acc[h + 1][j] : _mm512_setzero_ps();
        }
        const __m512 s = _mm512_mul_ps(fold_16x16(pair), scale);
        store_half_512(a->scores + (size_t)(h0 + h) * a->scores_stride + p0, s, 0, count);
        if (h + 1 < HN) store_half_512(a->scores + (size_t)(h0 + h + 1) * a->scores_stride + p0, s, 1, count);
    }
}

/* Positions prefetched beyond those being read: the cache is far larger than the L3, and a block
 * table scatters it, so the hardware prefetcher alone leaves the kernels waiting on memory. */
#define SCORES_AHEAD 8
#define VALUES_AHEAD 16

/* Prefetches the call's part of the cached rows of the next `count` positions of `ahead` from
 * `pool` into L1 and, when `later` is a pool, the same rows of `later` into L2. */
INLINE TARGET512 void prefetch_rows(const sa_attention_args *a, const void *pool, const void *later, sa_positions *ahead,
                                    int count, const int HALF) {
    const size_t bytes = (size_t)a->nkv * (size_t)a->head_dim * (HALF ? 2 : 4);
    for (int j = 0; j < count; j++) {
        const size_t at = sa_positions_next(ahead);
        const char *row = (const char *)sa_kv_at(pool, at, HALF);
        for (size_t b = 0; b < bytes; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
        if (!later) continue;
        row = (const char *)sa_kv_at(later, at, HALF);
        for (size_t b = 0; b < bytes; b += 64) _mm_prefetch(row + b, _MM_HINT_T1);
    }
}

/* Scores of every head, 8 positions at a time: all kv heads of a cached row are read together.
 * A call over several kv heads (a batch of many tokens, whose caches are read from memory)
 * prefetches the keys further on, and the values of the same rows into L2 for the values pass. */
INLINE TARGET512 void all_scores_512(const sa_attention_args *a, const int HALF) {
    sa_positions it = sa_positions_start(a), ahead = it;
    int fetched = 0;
    for (int p0 = 0; p0 < a->n; p0 += 8) {
        const int count = a->n - p0 < 8 ? a->n - p0 : 8;
        if (a->nkv > 1) {
            const int upto = p0 + 8 + SCORES_AHEAD < a->n ? p0 + 8 + SCORES_AHEAD : a->n;
            prefetch_rows(a, a->k, a->v, &ahead, upto - fetched, HALF);
            fetched = upto;
        }
        const void *rows[8];
        for (int j = 0; j < count; j++) rows[j] = sa_kv_at(a->k, sa_positions_next(&it), HALF);
        for (int j = count; j < 8; j++) rows[j] = rows[count - 1];
        for (int g = 0; g < a->nkv; g++) {
            for (int h0 = 0; h0 < a->nh; h0 += 3) {
                const int first = g * a->nh + h0;
                switch (a->nh - h0) {
                case 1: scores_512(a, rows, p0, count, g, first, 1, HALF); break;
                case 2: scores_512(a, rows, p0, count, g, first, 2, HALF); break;
                default: scores_512(a, rows, p0, count, g, first, 3, HALF); break;
                }
            }
        }
    }
}

TARGET512 static void softmax_weights_512(float *s, int n) {
    __m512 largest = _mm512_set1_ps(s[0]);
    for (int p = 0; p < n; p += 16) largest = _mm512_mask_max_ps(largest, mask16(n - p), largest, _mm512_maskz_loadu_ps(mask16(n - p), s + p));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(largest));
    __m512 lanes = _mm512_setzero_ps();
    for (int p = 0; p < n; p += 16) {
        const __mmask16 valid = mask16(n - p);
        __m512 e = exp_nonpositive_512(_mm512_sub_ps(_mm512_maskz_loadu_ps(valid, s + p), m));
        lanes = _mm512_mask_add_ps(lanes, valid, lanes, e);
        _mm512_mask_storeu_ps(s + p, valid, e);
    }
    float l[16];
    _mm512_storeu_ps(l, lanes);
    const __m512 inv = _mm512_set1_ps(1.0f / sa_fold16(l));
    for (int p = 0; p < n; p += 16) {
        const __mmask16 valid = mask16(n - p);
        _mm512_mask_storeu_ps(s + p, valid, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, s + p), inv));
    }
}

/* Positions whose weighted values are added to the outputs between their stores, when a call
 * covers several kv heads (with one, each output stays in a register over all positions). */
#define SPAN 16

/* Adds the weighted values of the `count` positions from p0 (walked by `it`) to output columns
 * [d0, d0 + 64) of HN consecutive heads from h0, served by kv head g; the outputs start from zero
 * at p0 = 0 and are kept in `out` between spans, which continues each fused multiply-add chain
 * exactly. */
INLINE TARGET512 void values_512(const sa_attention_args *a, sa_positions it, int p0, int count, int g, int h0, int d0,
                                 const int HN, const int HALF) {
    const int D = a->head_dim;
    const void *pool = sa_kv_at(a->v, (size_t)g * (size_t)D, HALF);
    __mmask16 m[4];
    __m512 o[4][4];
    for (int c = 0; c < 4; c++) {
        m[c] = mask16(D - d0 - 16 * c);
        for (int h = 0; h < HN; h++) {
            o[h][c] = p0 ? _mm512_maskz_loadu_ps(m[c], a->out + (size_t)(h0 + h) * D + d0 + 16 * c) : _mm512_setzero_ps();
        }
    }
    const float *w = a->scores + (size_t)h0 * a->scores_stride + p0;
    for (int j = 0; j < count; j++) {
        const void *v = sa_kv_at(pool, sa_positions_next(&it), HALF);
        __m512 vv[4];
        for (int c = 0; c < 4; c++) vv[c] = load_512(v, d0 + 16 * c, m[c], HALF);
        for (int h = 0; h < HN; h++) {
            const __m512 wp = _mm512_set1_ps(w[(size_t)h * a->scores_stride + j]);
            for (int c = 0; c < 4; c++) o[h][c] = _mm512_fmadd_ps(wp, vv[c], o[h][c]);
        }
    }
    for (int h = 0; h < HN; h++) {
        for (int c = 0; c < 4; c++) _mm512_mask_storeu_ps(a->out + (size_t)(h0 + h) * D + d0 + 16 * c, m[c], o[h][c]);
    }
}

INLINE TARGET512 void attend_512(const sa_attention_args *a, const int HALF) {
    all_scores_512(a, HALF);
    for (int h = 0; h < a->nkv * a->nh; h++) softmax_weights_512(a->scores + (size_t)h * a->scores_stride, a->n);
    const int span = a->nkv > 1 ? SPAN : a->n;
    sa_positions it = sa_positions_start(a), ahead = it;
    int fetched = 0;
    for (int p0 = 0; p0 < a->n; p0 += span) {
        const int count = a->n - p0 < span ? a->n - p0 : span;
        if (a->nkv > 1) {
            const int upto = p0 + span + VALUES_AHEAD < a->n ? p0 + span + VALUES_AHEAD : a->n;
            prefetch_rows(a, a->v, NULL, &ahead, upto - fetched, HALF);
            fetched = upto;
        }
        for (int g = 0; g < a->nkv; g++) {
            for (int d0 = 0; d0 < a->head_dim; d0 += 64) {
                for (int h0 = 0; h0 < a->nh; h0 += 4) {
                    const int first = g * a->nh + h0;
                    switch (a->nh - h0) {
                    case 1: values_512(a, it, p0, count, g, first, d0, 1, HALF); break;
                    case 2: values_512(a, it, p0, count, g, first, d0, 2, HALF); break;
                    case 3: values_512(a, it, p0, count, g, first, d0, 3, HALF); break;
                    default: values_512(a, it, p0, count, g, first, d0, 4, HALF); break;
                    }
                }
            }
        }
        for (int j = 0; j < count; j++) sa_positions_next(&it);
    }
}

TARGET512 static void attend_512_half(const sa_attention_args *a) { attend_512(a, 1); }
TARGET512 static void attend_512_float(const sa_attention_args *a) { attend_512(a, 0); }

void sa_attend_avx512(const sa_attention_args *a) {
    if (a->half) {
        attend_512_half(a);
    } else {
        attend_512_float(a);
    }
}

/* ---- AVX2 ---- */

/* Elements [i, i + 8) of a cached row of `count` elements, those past the end as zeros. */
INLINE TARGET256 __m256 load_256(const void *row, int i, int count, const int HALF) {
    if (!HALF) return _mm256_maskload_ps((const float *)row + i, mask8(count - i));
    const uint16_t *h = (const uint16_t *)row + i;
    if (count - i >= 8) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h));
    uint16_t part[8] = {0};
    for (int k = 0; k < count - i; k++) part[k] = h[k];
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)part));
}

INLINE TARGET256 void scores_256(const sa_attention_args *a, const int HALF) {
    const int D = a->head_dim, chunks = (D + 15) / 16;
    const __m256 scale = _mm256_set1_ps(a->scale);
    sa_positions it = sa_positions_start(a);
    for (int p0 = 0; p0 < a->n; p0 += 8) {
        const int count = a->n - p0 < 8 ? a->n - p0 : 8;
        const void *rows[8];
        for (int j = 0; j < count; j++) rows[j] = sa_kv_at(a->k, sa_positions_next(&it), HALF);
        for (int j = count; j < 8; j++) rows[j] = rows[count - 1];
        for (int h = 0; h < a->nh; h++) {
            const float *qh = a->q + (size_t)h * D;
            __m256 half[8];
            for (int j = 0; j < 8; j++) {
                __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
                for (int c = 0; c < chunks; c++) {
                    lo = _mm256_fmadd_ps(_mm256_maskload_ps(qh + 16 * c, mask8(D - 16 * c)), load_256(rows[j], 16 * c, D, HALF), lo);
                    hi = _mm256_fmadd_ps(_mm256_maskload_ps(qh + 16 * c + 8, mask8(D - 16 * c - 8)), load_256(rows[j], 16 * c + 8, D, HALF), hi);
                }
                half[j] = _mm256_add_ps(lo, hi);
            }
            _mm256_maskstore_ps(a->scores + (size_t)h * a->scores_stride + p0, mask8(count),
                                _mm256_mul_ps(fold_8x8(half), scale));
        }
    }
}

TARGET256 static void softmax_weights_256(float *s, int n) {
    float m = s[0];
    for (int p = 1; p < n; p++) m = s[p] > m ? s[p] : m;
    const __m256 mv = _mm256_set1_ps(m);
    __m256 lanes[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int p = 0; p < n; p += 8) {
        const __m256i valid = mask8(n - p);
        __m256 e = exp_nonpositive_256(_mm256_sub_ps(_mm256_maskload_ps(s + p, valid), mv));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(valid));
        lanes[(p / 8) % 2] = _mm256_add_ps(lanes[(p / 8) % 2], e);
        _mm256_maskstore_ps(s + p, valid, e);
    }
    float l[16];
    _mm256_storeu_ps(l, lanes[0]);
    _mm256_storeu_ps(l + 8, lanes[1]);
    const __m256 inv = _mm256_set1_ps(1.0f / sa_fold16(l));
    for (int p = 0; p < n; p += 8) {
        const __m256i valid = mask8(n - p);
        _mm256_maskstore_ps(s + p, valid, _mm256_mul_ps(_mm256_maskload_ps(s + p, valid), inv));
    }
}

/* Output columns [d0, d0 + 16) of HN consecutive heads from h0. */
INLINE TARGET256 void values_256(const sa_attention_args *a, int h0, int d0, const int HN, const int HALF) {
    const int D = a->head_dim;
    const __m256i m[2] = {mask8(D - d0), mask8(D - d0 - 8)};
    __m256 o[4][2];
    for (int h = 0; h < HN; h++) o[h][0] = o[h][1] = _mm256_setzero_ps();
    const float *w = a->scores + (size_t)h0 * a->scores_stride;
    sa_positions it = sa_positions_start(a);
    for (int p = 0; p < a->n; p++) {
        const void *v = sa_kv_at(a->v, sa_positions_next(&it), HALF);
        const __m256 v0 = load_256(v, d0, D, HALF), v1 = load_256(v, d0 + 8, D, HALF);
        for (int h = 0; h < HN; h++) {
            const __m256 wp = _mm256_set1_ps(w[(size_t)h * a->scores_stride + p]);
            o[h][0] = _mm256_fmadd_ps(wp, v0, o[h][0]);
            o[h][1] = _mm256_fmadd_ps(wp, v1, o[h][1]);
        }
    }
    for (int h = 0; h < HN; h++) {
        float *dst = a->out + (size_t)(h0 + h) * D + d0;
        _mm256_maskstore_ps(dst, m[0], o[h][0]);
        _mm256_maskstore_ps(dst + 8, m[1], o[h][1]);
    }
}

INLINE TARGET256 void attend_256(const sa_attention_args *a, const int HALF) {
    scores_256(a, HALF);
    for (int h = 0; h < a->nh; h++) softmax_weights_256(a->scores + (size_t)h * a->scores_stride, a->n);
    for (int d0 = 0; d0 < a->head_dim; d0 += 16) {
        for (int h0 = 0; h0 < a->nh; h0 += 4) {
            switch (a->nh - h0) {
            case 1: values_256(a, h0, d0, 1, HALF); break;
            case 2: values_256(a, h0, d0, 2, HALF); break;
            case 3: values_256(a, h0, d0, 3, HALF); break;
            default: values_256(a, h0, d0, 4, HALF); break;
            }
        }
    }
}

TARGET256 static void attend_256_half(const sa_attention_args *a) { attend_256(a, 1); }
TARGET256 static void attend_256_float(const sa_attention_args *a) { attend_256(a, 0); }

void sa_attend_avx2(const sa_attention_args *a) {
    for (int g = 0; g < a->nkv; g++) {
        const sa_attention_args one = sa_attention_kv_head(a, g);
        if (one.half) {
            attend_256_half(&one);
        } else {
            attend_256_float(&one);
        }
    }
}

TARGET256 size_t sa_kv_store_half_f16c(uint16_t *dst, const float *src, size_t n) {
    const __m256 top = _mm256_set1_ps(SA_HALF_MAX), bottom = _mm256_set1_ps(-SA_HALF_MAX);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(src + i), bottom), top);
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    return i;
}

#else

void sa_attend_avx512(const sa_attention_args *a) { sa_attend_scalar(a); }
void sa_attend_avx2(const sa_attention_args *a) { sa_attend_scalar(a); }
size_t sa_kv_store_half_f16c(uint16_t *dst, const float *src, size_t n) {
    (void)dst;
    (void)src;
    (void)n;
    return 0;
}

#endif
