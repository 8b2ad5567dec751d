/* SwiGLU, gate = silu(gate) * up, on every instruction set with the same bits: the scalar loop
 * defines the operations, the vector loops do them 16 (AVX2: 8) at a time. */

#include "float_order.h"
#include "ops_isa.h"
#include "shiftadd_cpu.h"
#include "shiftadd_ops.h"

static inline float swiglu_one(float g, float u) {
    const float e = sa_exp_nonpositive(-fabsf(g));
    const float s = (g >= 0.0f ? 1.0f : e) / (1.0f + e);
    return g * s * u;
}

static void swiglu_scalar(float *gate, const float *up, size_t begin, size_t count) {
    for (size_t i = begin; i < count; i++) gate[i] = swiglu_one(gate[i], up[i]);
}

#if defined(__x86_64__)
#include "float_order_x86.h"

TARGET512 static void swiglu_avx512(float *gate, const float *up, size_t count) {
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        const __m512 g = _mm512_loadu_ps(gate + i);
        const __m512 e = exp_nonpositive_512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(g)));
        const __mmask16 positive = _mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_GE_OQ);
        const __m512 s = _mm512_div_ps(_mm512_mask_mov_ps(e, positive, one), _mm512_add_ps(one, e));
        _mm512_storeu_ps(gate + i, _mm512_mul_ps(_mm512_mul_ps(g, s), _mm512_loadu_ps(up + i)));
    }
    swiglu_scalar(gate, up, i, count);
}

TARGET256 static void swiglu_avx2(float *gate, const float *up, size_t count) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 e = exp_nonpositive_256(_mm256_or_ps(g, sign));
        const __m256 positive = _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_GE_OQ);
        const __m256 s = _mm256_div_ps(_mm256_blendv_ps(e, one, positive), _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_loadu_ps(up + i)));
    }
    swiglu_scalar(gate, up, i, count);
}
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
