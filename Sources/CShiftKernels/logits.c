/* Sampling over a vocabulary of logits: the first largest value, and softmax weights with their
 * sum. The scalar loops define the results; the vector loops give the same bits (the maximum is
 * exact in any order, and the sum is kept on 16 double lanes added in a fixed order). */

#include "float_order.h"
#include "ops_isa.h"
#include "shiftadd_cpu.h"
#include "shiftadd_ops.h"

#define SUM_LANES 16

static inline float key(float v) { return isnan(v) ? -INFINITY : v; }

static size_t argmax_scalar(const float *values, size_t begin, size_t count, size_t best, float best_value) {
    for (size_t i = begin; i < count; i++) {
        if (values[i] > best_value) {
            best = i;
            best_value = values[i];
        }
    }
    return best;
}

static void exp_sum_scalar(const float *values, size_t begin, size_t count, float max, float scale, float *weights,
                           double lanes[SUM_LANES]) {
    for (size_t i = begin; i < count; i++) {
        const float w = sa_exp_nonpositive((key(values[i]) - max) * scale);
        if (weights) weights[i] = w;
        lanes[i % SUM_LANES] += (double)w;
    }
}

#if defined(__x86_64__)
#include "float_order_x86.h"

/* The largest value over full vectors (NaN as -infinity), then its first index. */
TARGET512 static size_t argmax_avx512(const float *values, size_t count) {
    const size_t full = count / 16 * 16;
    const __m512 minus_inf = _mm512_set1_ps(-INFINITY);
    __m512 m = minus_inf;
    for (size_t i = 0; i < full; i += 16) {
        const __m512 v = _mm512_loadu_ps(values + i);
        m = _mm512_max_ps(m, _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), minus_inf));
    }
    const float top = _mm512_reduce_max_ps(m);
    size_t best = 0;
    float best_value = -INFINITY;
    if (top > -INFINITY) {
        const __m512 t = _mm512_set1_ps(top);
        for (size_t i = 0; i < full; i += 16) {
            const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_loadu_ps(values + i), t, _CMP_EQ_OQ);
            if (hit) {
                best = i + (size_t)__builtin_ctz(hit);
                best_value = values[best];
                break;
            }
        }
    }
    return argmax_scalar(values, full, count, best, best_value);
}

TARGET256 static size_t argmax_avx2(const float *values, size_t count) {
    const size_t full = count / 8 * 8;
    const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
    __m256 m = minus_inf;
    for (size_t i = 0; i < full; i += 8) {
        const __m256 v = _mm256_loadu_ps(values + i);
        m = _mm256_max_ps(m, _mm256_blendv_ps(v, minus_inf, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    float top = -INFINITY;
    for (int l = 0; l < 8; l++) top = lanes[l] > top ? lanes[l] : top;
    size_t best = 0;
    float best_value = -INFINITY;
    if (top > -INFINITY) {
        const __m256 t = _mm256_set1_ps(top);
        for (size_t i = 0; i < full; i += 8) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(values + i), t, _CMP_EQ_OQ));
            if (hit) {
                best = i + (size_t)__builtin_ctz((unsigned)hit);
                best_value = values[best];
                break;
            }
        }
    }
    return argmax_scalar(values, full, count, best, best_value);
}

TARGET512 static void exp_sum_avx512(const float *values, size_t count, float max, float scale, float *weights,
                                     double lanes[SUM_LANES]) {
    const size_t full = count / 16 * 16;
    const __m512 minus_inf = _mm512_set1_ps(-INFINITY), vmax = _mm512_set1_ps(max), vscale = _mm512_set1_ps(scale);
    __m512d low = _mm512_setzero_pd(), high = _mm512_setzero_pd();
    for (size_t i = 0; i < full; i += 16) {
        __m512 v = _mm512_loadu_ps(values + i);
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), minus_inf);
        const __m512 w = exp_nonpositive_512(_mm512_mul_ps(_mm512_sub_ps(v, vmax), vscale));
        if (weights) _mm512_storeu_ps(weights + i, w);
        low = _mm512_add_pd(low, _mm512_cvtps_pd(_mm512_castps512_ps256(w)));
        high = _mm512_add_pd(high, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(w), 1))));
    }
    _mm512_storeu_pd(lanes, low);
    _mm512_storeu_pd(lanes + 8, high);
    exp_sum_scalar(values, full, count, max, scale, weights, lanes);
}

TARGET256 static void exp_sum_avx2(const float *values, size_t count, float max, float scale, float *weights,
                                   double lanes[SUM_LANES]) {
    const size_t full = count / 16 * 16;
    const __m256 minus_inf = _mm256_set1_ps(-INFINITY), vmax = _mm256_set1_ps(max), vscale = _mm256_set1_ps(scale);
    __m256d acc[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
    for (size_t i = 0; i < full; i += 16) {
        for (int half = 0; half < 2; half++) {
            __m256 v = _mm256_loadu_ps(values + i + 8 * half);
            v = _mm256_blendv_ps(v, minus_inf, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
            const __m256 w = exp_nonpositive_256(_mm256_mul_ps(_mm256_sub_ps(v, vmax), vscale));
            if (weights) _mm256_storeu_ps(weights + i + 8 * half, w);
            acc[2 * half] = _mm256_add_pd(acc[2 * half], _mm256_cvtps_pd(_mm256_castps256_ps128(w)));
            acc[2 * half + 1] = _mm256_add_pd(acc[2 * half + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(w, 1)));
        }
    }
    for (int j = 0; j < 4; j++) _mm256_storeu_pd(lanes + 4 * j, acc[j]);
    exp_sum_scalar(values, full, count, max, scale, weights, lanes);
}
#endif

int sa_logits_argmax(const float *values, size_t count, size_t *index, int isa) {
    if ((!values && count > 0) || !index) return SA_ERR_ARGUMENT;
    const int status = sa_ops_isa(&isa);
    if (status != SA_OK) return status;
#if defined(__x86_64__)
    if (isa == SA_ISA_AVX512) {
        *index = argmax_avx512(values, count);
        return SA_OK;
    }
    if (isa == SA_ISA_AVX2) {
        *index = argmax_avx2(values, count);
        return SA_OK;
    }
#endif
    *index = argmax_scalar(values, 0, count, 0, -INFINITY);
    return SA_OK;
}

int sa_logits_exp_sum(const float *values, size_t count, float max, float scale, float *weights, double *sum,
                      int isa) {
    if ((!values && count > 0) || !sum || !(scale > 0) || isinf(scale) || !isfinite(max)) return SA_ERR_ARGUMENT;
    const int status = sa_ops_isa(&isa);
    if (status != SA_OK) return status;
    double lanes[SUM_LANES] = {0};
#if defined(__x86_64__)
    if (isa == SA_ISA_AVX512) {
        exp_sum_avx512(values, count, max, scale, weights, lanes);
    } else if (isa == SA_ISA_AVX2) {
        exp_sum_avx2(values, count, max, scale, weights, lanes);
    } else {
        exp_sum_scalar(values, 0, count, max, scale, weights, lanes);
    }
#else
    exp_sum_scalar(values, 0, count, max, scale, weights, lanes);
#endif
    double total = 0;
    for (int l = 0; l < SUM_LANES; l++) total += lanes[l];
    *sum = total;
    return SA_OK;
}
