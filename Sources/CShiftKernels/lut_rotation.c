/* The input rotation of rotated bundles (sa_rht, shiftadd_hadamard.h) on AVX-512 and AVX2, for
 * the threaded table build. sa_rht's scalar loops cost about twice the table build itself; these
 * compute the same operations (sign products, the butterflies of every stage, the normalizing
 * product), so the rotated activations are identical bit for bit: within a stage each element is
 * one sum or difference of the same two values whatever the order they are formed in. */

#include <math.h>

#include "lut_layout.h"
#include "shiftadd_hadamard.h"

/* sa_rht's normalization: 1/sqrt(block), exactly 2^-k when block = 4^k. */
static float normaliser(size_t block) {
    int log2b = 0;
    while (((size_t)1 << log2b) < block) log2b++;
    if ((log2b & 1) == 0) return ldexpf(1.0f, -log2b / 2);
    return (float)(1.0 / sqrt((double)block));
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TARGET512 __attribute__((target("avx512f")))
#define TARGET256 __attribute__((target("avx2")))

/* One butterfly stage of distance h inside each vector: lanes whose bit h is clear get
 * v + partner, the others partner - v. */
TARGET512 static inline __m512 stage_512(__m512 v, __m512 partner, __mmask16 upper) {
    return _mm512_mask_blend_ps(upper, _mm512_add_ps(v, partner), _mm512_sub_ps(partner, v));
}

TARGET512 void sa_lut_rotate_avx512(float *x, size_t n, size_t block, const float *signs) {
    const __m512 scale = _mm512_set1_ps(normaliser(block));
    for (size_t i = 0; i < n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(signs + i));
        v = stage_512(v, _mm512_permute_ps(v, 0xB1), 0xAAAA);
        v = stage_512(v, _mm512_permute_ps(v, 0x4E), 0xCCCC);
        v = stage_512(v, _mm512_shuffle_f32x4(v, v, 0xB1), 0xF0F0);
        v = stage_512(v, _mm512_shuffle_f32x4(v, v, 0x4E), 0xFF00);
        _mm512_storeu_ps(x + i, v);
    }
    for (size_t k = 0; k < n; k += block) {
        float *b = x + k;
        for (size_t h = 16; h < block; h <<= 1) {
            for (size_t i = 0; i < block; i += h << 1) {
                for (size_t j = i; j < i + h; j += 16) {
                    __m512 lo = _mm512_loadu_ps(b + j), hi = _mm512_loadu_ps(b + j + h);
                    _mm512_storeu_ps(b + j, _mm512_add_ps(lo, hi));
                    _mm512_storeu_ps(b + j + h, _mm512_sub_ps(lo, hi));
                }
            }
        }
    }
    for (size_t i = 0; i < n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), scale));
}

/* As stage_512; `upper` has all bits set in the lanes that take partner - v. */
TARGET256 static inline __m256 stage_256(__m256 v, __m256 partner, __m256 upper) {
    return _mm256_blendv_ps(_mm256_add_ps(v, partner), _mm256_sub_ps(partner, v), upper);
}

TARGET256 static inline __m256 lanes_256(int bits) {
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256i set = _mm256_and_si256(_mm256_set1_epi32(bits), lane);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(set, lane));
}

TARGET256 void sa_lut_rotate_avx2(float *x, size_t n, size_t block, const float *signs) {
    const __m256 scale = _mm256_set1_ps(normaliser(block));
    for (size_t i = 0; i < n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(signs + i));
        v = stage_256(v, _mm256_permute_ps(v, 0xB1), lanes_256(0xAA));
        v = stage_256(v, _mm256_permute_ps(v, 0x4E), lanes_256(0xCC));
        v = stage_256(v, _mm256_permute2f128_ps(v, v, 0x01), lanes_256(0xF0));
        _mm256_storeu_ps(x + i, v);
    }
    for (size_t k = 0; k < n; k += block) {
        float *b = x + k;
        for (size_t h = 8; h < block; h <<= 1) {
            for (size_t i = 0; i < block; i += h << 1) {
                for (size_t j = i; j < i + h; j += 8) {
                    __m256 lo = _mm256_loadu_ps(b + j), hi = _mm256_loadu_ps(b + j + h);
                    _mm256_storeu_ps(b + j, _mm256_add_ps(lo, hi));
                    _mm256_storeu_ps(b + j + h, _mm256_sub_ps(lo, hi));
                }
            }
        }
    }
    for (size_t i = 0; i < n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), scale));
}

#else

void sa_lut_rotate_avx512(float *x, size_t n, size_t block, const float *signs) { sa_rht(x, 1, n, block, signs); }
void sa_lut_rotate_avx2(float *x, size_t n, size_t block, const float *signs) { sa_rht(x, 1, n, block, signs); }

#endif
