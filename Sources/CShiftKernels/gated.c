/* The gated MLP activations, gate = act(gate) * up: SwiGLU (silu) and GELU-gated (tanh form),
 * both g * sigmoid(z) * up for some z, on every instruction set with the same bits: the scalar
 * loops define the operations, the vector loops do them 16 (AVX2: 8) at a time. */

#include "float_order.h"
#include "ops_isa.h"
#include "shiftadd_cpu.h"
#include "shiftadd_ops.h"

/* GELU's tanh form: 0.5 * (1 + tanh(u)) = sigmoid(2u), with 2u = g * (GELU_A + GELU_B * g^2). */
#define GELU_A 1.5957691216057308f /* 2 * sqrt(2 / pi) */
#define GELU_B 0.07135481627260025f /* 2 * sqrt(2 / pi) * 0.044715 */

/* sigmoid(z) from e = exp(-|z|): 1 / (1 + e) for z >= 0, e / (1 + e) below, so no exponential
 * overflows. */
static inline float sigmoid_one(float z) {
    const float e = sa_exp_nonpositive(-fabsf(z));
    return (z >= 0.0f ? 1.0f : e) / (1.0f + e);
}

static inline float gelu_argument(float g) {
    float t = g * g;
    t = t * GELU_B;
    t = t + GELU_A;
    return g * t;
}

static void swiglu_scalar(float *gate, const float *up, size_t begin, size_t count) {
    for (size_t i = begin; i < count; i++) gate[i] = gate[i] * sigmoid_one(gate[i]) * up[i];
}

static void gelu_gated_scalar(float *gate, const float *up, size_t begin, size_t count) {
    for (size_t i = begin; i < count; i++) gate[i] = gate[i] * sigmoid_one(gelu_argument(gate[i])) * up[i];
}

#if defined(__x86_64__)
#include "float_order_x86.h"

INLINE TARGET512 __m512 sigmoid_512(__m512 z) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 e = exp_nonpositive_512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(z)));
    const __mmask16 positive = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GE_OQ);
    return _mm512_div_ps(_mm512_mask_mov_ps(e, positive, one), _mm512_add_ps(one, e));
}

INLINE TARGET256 __m256 sigmoid_256(__m256 z) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = exp_nonpositive_256(_mm256_or_ps(z, _mm256_set1_ps(-0.0f)));
    const __m256 positive = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ);
    return _mm256_div_ps(_mm256_blendv_ps(e, one, positive), _mm256_add_ps(one, e));
}

/* The loops of both activations; GELU != 0 takes z = gelu_argument(g), else z = g. */
INLINE TARGET512 void gated_512(float *gate, const float *up, size_t count, const int GELU) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        const __m512 g = _mm512_loadu_ps(gate + i);
        __m512 z = g;
        if (GELU) {
            const __m512 t = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(g, g), _mm512_set1_ps(GELU_B)), _mm512_set1_ps(GELU_A));
            z = _mm512_mul_ps(g, t);
        }
        _mm512_storeu_ps(gate + i, _mm512_mul_ps(_mm512_mul_ps(g, sigmoid_512(z)), _mm512_loadu_ps(up + i)));
    }
    if (GELU) {
        gelu_gated_scalar(gate, up, i, count);
    } else {
        swiglu_scalar(gate, up, i, count);
    }
}

INLINE TARGET256 void gated_256(float *gate, const float *up, size_t count, const int GELU) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        __m256 z = g;
        if (GELU) {
            const __m256 t = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(g, g), _mm256_set1_ps(GELU_B)), _mm256_set1_ps(GELU_A));
            z = _mm256_mul_ps(g, t);
        }
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_mul_ps(g, sigmoid_256(z)), _mm256_loadu_ps(up + i)));
    }
    if (GELU) {
        gelu_gated_scalar(gate, up, i, count);
    } else {
        swiglu_scalar(gate, up, i, count);
    }
}

TARGET512 static void swiglu_avx512(float *gate, const float *up, size_t count) { gated_512(gate, up, count, 0); }
TARGET512 static void gelu_gated_avx512(float *gate, const float *up, size_t count) { gated_512(gate, up, count, 1); }
TARGET256 static void swiglu_avx2(float *gate, const float *up, size_t count) { gated_256(gate, up, count, 0); }
TARGET256 static void gelu_gated_avx2(float *gate, const float *up, size_t count) { gated_256(gate, up, count, 1); }
#endif

int sa_swiglu(float *gate, const float *up, size_t count, int isa) {
    if (!gate || !up) return SA_ERR_ARGUMENT;
    const int status = sa_ops_isa(&isa);
    if (status != SA_OK) return status;
#if defined(__x86_64__)
    if (isa == SA_ISA_AVX512) {
        swiglu_avx512(gate, up, count);
        return SA_OK;
    }
    if (isa == SA_ISA_AVX2) {
        swiglu_avx2(gate, up, count);
        return SA_OK;
    }
#endif
    swiglu_scalar(gate, up, 0, count);
    return SA_OK;
}

int sa_gelu_gated(float *gate, const float *up, size_t count, int isa) {
    if (!gate || !up) return SA_ERR_ARGUMENT;
    const int status = sa_ops_isa(&isa);
    if (status != SA_OK) return status;
#if defined(__x86_64__)
    if (isa == SA_ISA_AVX512) {
        gelu_gated_avx512(gate, up, count);
        return SA_OK;
    }
    if (isa == SA_ISA_AVX2) {
        gelu_gated_avx2(gate, up, count);
        return SA_OK;
    }
#endif
    gelu_gated_scalar(gate, up, 0, count);
    return SA_OK;
}
