#ifndef SHIFTADD_FLOAT_ORDER_X86_H
#define SHIFTADD_FLOAT_ORDER_X86_H

/* AVX-512 and AVX2 forms of float_order.h (private): the lane fold for many sums at once, the
 * exponential, and tail masks. */

#include <immintrin.h>

#include "float_order.h"

#define INLINE static inline __attribute__((always_inline))
#define TARGET512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c,fma")))
#define TARGET256 __attribute__((target("avx2,f16c,fma")))

/* Lanes 0 ... count - 1 (count may be <= 0 or >= 16). */
TARGET512 static inline __mmask16 mask16(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1u);
}

/* Lane j of the result is sa_fold16 of a[j]. The shuffles leave the sums in the lane order
 * 0 2 1 3 8 10 9 11 4 6 5 7 12 14 13 15, which the last permutation (its own inverse) undoes. */
TARGET512 static inline __m512 fold_16x16(const __m512 a[16]) {
    __m512 b[8], c[4], d[2];
    for (int j = 0; j < 8; j++) { /* lane l + lane l + 8 */
        b[j] = _mm512_add_ps(_mm512_shuffle_f32x4(a[j], a[j + 8], 0x44), _mm512_shuffle_f32x4(a[j], a[j + 8], 0xEE));
    }
    for (int j = 0; j < 4; j++) { /* + 4 */
        c[j] = _mm512_add_ps(_mm512_shuffle_f32x4(b[j], b[j + 4], 0x88), _mm512_shuffle_f32x4(b[j], b[j + 4], 0xDD));
    }
    for (int j = 0; j < 2; j++) { /* + 2 */
        d[j] = _mm512_add_ps(_mm512_shuffle_ps(c[j], c[j + 2], 0x44), _mm512_shuffle_ps(c[j], c[j + 2], 0xEE));
    }
    __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD)); /* + 1 */
    const __m512i order = _mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15);
    return _mm512_permutexvar_ps(order, e);
}

TARGET512 static inline __m512 exp_nonpositive_512(__m512 x) {
    __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(SA_EXP_MIN), _CMP_GE_OQ);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(SA_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-SA_LN2_HI), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(-SA_LN2_LO), r);
    __m512 p = _mm512_set1_ps(SA_EXP_C7);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SA_EXP_C6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SA_EXP_C5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SA_EXP_C4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SA_EXP_C3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(_mm512_maskz_mov_ps(keep, n)), 23);
    return _mm512_maskz_mov_ps(keep, _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e)));
}

/* Lanes 0 ... count - 1 of 8, as a maskload mask. */
TARGET256 static inline __m256i mask8(int count) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane);
}

/* Lane j of the result folds a[j], which already holds lane l + lane l + 8 of a 16-lane sum:
 * the remaining + 4, + 2, + 1 of sa_fold16. The shuffles leave lanes in the order 0 2 1 3 4 6 5 7. */
TARGET256 static inline __m256 fold_8x8(const __m256 a[8]) {
    __m256 b[4], c[2];
    for (int j = 0; j < 4; j++) {
        b[j] = _mm256_add_ps(_mm256_permute2f128_ps(a[j], a[j + 4], 0x20), _mm256_permute2f128_ps(a[j], a[j + 4], 0x31));
    }
    for (int j = 0; j < 2; j++) {
        c[j] = _mm256_add_ps(_mm256_shuffle_ps(b[j], b[j + 2], 0x44), _mm256_shuffle_ps(b[j], b[j + 2], 0xEE));
    }
    __m256 e = _mm256_add_ps(_mm256_shuffle_ps(c[0], c[1], 0x88), _mm256_shuffle_ps(c[0], c[1], 0xDD));
    return _mm256_permutevar8x32_ps(e, _mm256_setr_epi32(0, 2, 1, 3, 4, 6, 5, 7));
}

TARGET256 static inline __m256 exp_nonpositive_256(__m256 x) {
    __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(SA_EXP_MIN), _CMP_GE_OQ);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(SA_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    n = _mm256_and_ps(n, keep);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-SA_LN2_HI), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-SA_LN2_LO), r);
    __m256 p = _mm256_set1_ps(SA_EXP_C7);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SA_EXP_C6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SA_EXP_C5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SA_EXP_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SA_EXP_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_and_ps(_mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e)), keep);
}

#endif
