/* AVX2 table builder and lookup kernel on the 32-row layout.
 *
 * A 32-byte load holds byte k of a chunk for 32 rows. vpshufb looks the low nibbles up in
 * block 2k's 16 entries and the high nibbles in block 2k + 1's (the same 16 bytes in both
 * 128-bit lanes). Interleaving the two results and adding byte pairs with vpmaddubsw gives
 * each row's sum in 16 bits; a group adds at most 8 * 32 entries of magnitude <= 127 into
 * one 16-bit lane, which cannot overflow. The unpack order leaves rows 0-7 and 16-23 in one
 * accumulator and rows 8-15 and 24-31 in the other, so widening them in lane order yields
 * rows 0-7, 8-15, 16-23, 24-31. */

#include "lut_layout.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* Table build. One vector holds entries 0-7 of a block; entries 8-15 are the negated
 * entries 7-0 (rounding to nearest even is symmetric, so this matches computing them). */

/* Lane i gets the sign bit when bit j of i is 0 (activation j is subtracted in entry i). */
TARGET static __m256i subtract_mask(int j) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i clear = _mm256_andnot_si256(_mm256_srli_epi32(lane, j), _mm256_set1_epi32(1));
    return _mm256_slli_epi32(clear, 31);
}

TARGET static inline __m256 signed_broadcast(float v, __m256i mask) {
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(_mm256_set1_ps(v)), mask));
}

TARGET static inline float max8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

TARGET void sa_lut_build_token_avx2(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t) {
    const __m256i m0 = subtract_mask(0), m1 = subtract_mask(1), m2 = subtract_mask(2);
    const __m256i m3 = _mm256_set1_epi32((int)0x80000000u);
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m128i reverse = _mm_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    int8_t *tables = lut->tables + (size_t)t * lut->token_bytes;
    for (int g = 0; g < lut->ngroups; g++) {
        int padded;
        const float *xg = sa_lut_group_activations(lut, scratch, x, g, &padded);
        int blocks = padded / 4;
        __m256 largest = _mm256_setzero_ps();
        for (int s = 0; s < blocks; s++) {
            const float *v = xg + 4 * s;
            __m256 e = _mm256_add_ps(signed_broadcast(v[0], m0), signed_broadcast(v[1], m1));
            e = _mm256_add_ps(e, signed_broadcast(v[2], m2));
            e = _mm256_add_ps(e, signed_broadcast(v[3], m3));
            _mm256_store_ps(scratch->sums + 8 * s, e);
            largest = _mm256_max_ps(largest, _mm256_and_ps(e, magnitude));
        }
        float m = max8(largest);
        __m256 inverse = _mm256_set1_ps(sa_table_inverse_step(m));
        int8_t *tg = tables + (size_t)g * lut->chunks_per_group * SA_CHUNK_TABLE_BYTES;
        for (int s = 0; s < blocks; s += 2) {
            __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_load_ps(scratch->sums + 8 * s), inverse));
            __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_load_ps(scratch->sums + 8 * s + 8), inverse));
            __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
            __m128i low = _mm_packs_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
            __m128i high = _mm_sub_epi8(_mm_setzero_si128(), _mm_shuffle_epi8(low, reverse));
            int8_t *dst = tg + (s / 8) * SA_CHUNK_TABLE_BYTES;
            _mm_storeu_si128((__m128i *)(void *)(dst + sa_block_table_offset(s % 8)), _mm_unpacklo_epi64(low, high));
            _mm_storeu_si128((__m128i *)(void *)(dst + sa_block_table_offset(s % 8 + 1)), _mm_unpackhi_epi64(low, high));
        }
        __m256 lanes = _mm256_setzero_ps();
        for (int c = 0; c < padded; c += 8) lanes = _mm256_add_ps(lanes, _mm256_loadu_ps(xg + c));
        float l[8];
        _mm256_storeu_ps(l, lanes);
        lut->scale[(size_t)t * lut->ngroups + g] = sa_table_step(m);
        lut->xsum[(size_t)t * lut->ngroups + g] = sa_lane_tree8(l);
    }
}

/* Largest tile: fixed array sizes keep the accumulators out of variable-length arrays. */
#define MAX_TT 4

/* One 32-row block times TT consecutive tokens. */
INLINE TARGET void tile(const sa_qlinear *q, const sa_lut *lut, float *y, int block, int t0,
                        const int TT) {
    const __m256i ones = _mm256_set1_epi8(1);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const size_t tb = lut->token_bytes;
    const int ng = q->ngroups;
    const int8_t *tables = lut->tables + (size_t)t0 * tb;
    const float *step = lut->scale + (size_t)t0 * ng;
    const float *xsum = lut->xsum + (size_t)t0 * ng;
    size_t stride;
    const uint8_t *w = sa_block_start(q, block, &stride);
    __m256 acc[MAX_TT][4];
    for (int t = 0; t < TT; t++) {
        for (int j = 0; j < 4; j++) acc[t][j] = _mm256_setzero_ps();
    }
    for (int g = 0; g < ng; g++) {
        const int chunks = sa_chunks_of_group(q->chunks_per_group, q->last_chunks, ng, g);
        const int8_t *tg = tables + (size_t)g * q->chunks_per_group * SA_CHUNK_TABLE_BYTES;
        __m256 gsum[MAX_TT][4];
        for (int t = 0; t < TT; t++) {
            for (int j = 0; j < 4; j++) gsum[t][j] = _mm256_setzero_ps();
        }
        for (int p = 0; p < q->bits; p++) {
            __m256i even[MAX_TT], odd[MAX_TT];
            for (int t = 0; t < TT; t++) even[t] = odd[t] = _mm256_setzero_si256();
            for (int c = 0; c < chunks; c++) {
                const int8_t *tc = tg + (size_t)c * SA_CHUNK_TABLE_BYTES;
                for (int k = 0; k < 4; k++) {
                    __m256i bits = _mm256_load_si256((const __m256i *)(const void *)(w + (size_t)c * stride + k * 32));
                    __m256i lo = _mm256_and_si256(bits, low);
                    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), low);
                    for (int t = 0; t < TT; t++) {
                        const int8_t *tt = tc + (size_t)t * tb + k * 16;
                        __m256i a = _mm256_shuffle_epi8(
                            _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)tt)), lo);
                        __m256i b = _mm256_shuffle_epi8(
                            _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(tt + 64))), hi);
                        even[t] = _mm256_add_epi16(even[t], _mm256_maddubs_epi16(ones, _mm256_unpacklo_epi8(a, b)));
                        odd[t] = _mm256_add_epi16(odd[t], _mm256_maddubs_epi16(ones, _mm256_unpackhi_epi8(a, b)));
                    }
                }
            }
            const float *alpha = (const float *)(const void *)(w + (size_t)chunks * stride);
            for (int t = 0; t < TT; t++) {
                __m256i rows[4] = {
                    _mm256_cvtepi16_epi32(_mm256_castsi256_si128(even[t])),
                    _mm256_cvtepi16_epi32(_mm256_castsi256_si128(odd[t])),
                    _mm256_cvtepi16_epi32(_mm256_extracti128_si256(even[t], 1)),
                    _mm256_cvtepi16_epi32(_mm256_extracti128_si256(odd[t], 1)),
                };
                for (int j = 0; j < 4; j++) {
                    gsum[t][j] = _mm256_fmadd_ps(_mm256_load_ps(alpha + 8 * j), _mm256_cvtepi32_ps(rows[j]), gsum[t][j]);
                }
            }
            w += (size_t)(chunks + 1) * stride;
        }
        for (int t = 0; t < TT; t++) {
            __m256 s = _mm256_set1_ps(step[(size_t)t * ng + g]);
            for (int j = 0; j < 4; j++) acc[t][j] = _mm256_fmadd_ps(gsum[t][j], s, acc[t][j]);
        }
        if (q->has_beta) {
            const float *beta = (const float *)(const void *)w;
            for (int t = 0; t < TT; t++) {
                __m256 xs = _mm256_set1_ps(xsum[(size_t)t * ng + g]);
                for (int j = 0; j < 4; j++) acc[t][j] = _mm256_fmadd_ps(_mm256_load_ps(beta + 8 * j), xs, acc[t][j]);
            }
            w += stride;
        }
    }
    int first = block * SA_BLOCK_ROWS_R32;
    int valid = q->rows - first < SA_BLOCK_ROWS_R32 ? q->rows - first : SA_BLOCK_ROWS_R32;
    for (int t = 0; t < TT; t++) {
        float *dst = y + (size_t)(t0 + t) * q->rows + first;
        if (valid == SA_BLOCK_ROWS_R32) {
            for (int j = 0; j < 4; j++) _mm256_storeu_ps(dst + 8 * j, acc[t][j]);
        } else {
            float rows[SA_BLOCK_ROWS_R32];
            for (int j = 0; j < 4; j++) _mm256_storeu_ps(rows + 8 * j, acc[t][j]);
            memcpy(dst, rows, (size_t)valid * sizeof(float));
        }
    }
}

TARGET static void tile4(const sa_qlinear *q, const sa_lut *lut, float *y, int block, int t0) {
    tile(q, lut, y, block, t0, 4);
}
TARGET static void tile2(const sa_qlinear *q, const sa_lut *lut, float *y, int block, int t0) {
    tile(q, lut, y, block, t0, 2);
}
TARGET static void tile1(const sa_qlinear *q, const sa_lut *lut, float *y, int block, int t0) {
    tile(q, lut, y, block, t0, 1);
}

void sa_apply_avx2(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                   int block_end) {
    for (int b = block_begin; b < block_end; b++) {
        int t0 = 0;
        for (; t0 + 4 <= T; t0 += 4) tile4(q, lut, y, b, t0);
        if (t0 + 2 <= T) {
            tile2(q, lut, y, b, t0);
            t0 += 2;
        }
        if (t0 < T) tile1(q, lut, y, b, t0);
    }
}

#else

void sa_lut_build_token_avx2(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t) {
    sa_lut_build_token_scalar(lut, scratch, x, t);
}

void sa_apply_avx2(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                   int block_end) {
    sa_apply_scalar(q, lut, y, T, block_begin, block_end);
}

#endif
