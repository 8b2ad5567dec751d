/* AVX-512 (F, BW, VL, VBMI, VNNI) table builder and lookup kernel on the 16-row layout.
 *
 * One 64-byte load holds a chunk (32 columns) of one plane for 16 rows, a 32-bit word per
 * row. Masking each byte's low nibble and or-ing in the byte's position k (k << 4) gives
 * indexes into 64 bytes of tables (4 blocks x 16 entries), so one vpermb looks up 64
 * entries of 4 different blocks, and vpdpbusd with a vector of ones adds the 4 entries of
 * each row into its 32-bit sum. The high nibbles do the same with the other 4 blocks. */

#include "lut_layout.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vnni,fma")))
#define INLINE static inline __attribute__((always_inline))

/* Table build. One vector holds entries 0-7 of two neighbouring blocks (lanes 0-7 and
 * 8-15). Entries 8-15 of a block are the negated entries 7-0: rounding to nearest even is
 * symmetric, so negating after quantizing gives the same bytes as computing them. */

/* Lane l gets the sign bit when bit j of entry l % 8 is 0 (activation j is subtracted). */
TARGET static __m512i subtract_mask(int j) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
    __m512i clear = _mm512_andnot_si512(_mm512_srli_epi32(lane, (unsigned)j), _mm512_set1_epi32(1));
    return _mm512_slli_epi32(clear, 31);
}

/* Activation j of each lane's block, from the 8 activations of two blocks, sign-flipped by mask. */
TARGET static inline __m512 signed_activation(__m512 pair, int j, __m512i mask) {
    const __m512i first = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4);
    __m512 v = _mm512_permutexvar_ps(_mm512_add_epi32(first, _mm512_set1_epi32(j)), pair);
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), mask));
}

TARGET void sa_lut_build_token_avx512(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t) {
    const __m512i m0 = subtract_mask(0), m1 = subtract_mask(1), m2 = subtract_mask(2);
    const __m512i m3 = _mm512_set1_epi32((int)0x80000000u);
    const __m128i reverse = _mm_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    int8_t *tables = lut->tables + (size_t)t * lut->token_bytes;
    for (int g = 0; g < lut->ngroups; g++) {
        int padded;
        const float *xg = sa_lut_group_activations(lut, scratch, x, g, &padded);
        int blocks = padded / 4;
        __m512 largest = _mm512_setzero_ps();
        for (int s = 0; s < blocks; s += 2) {
            __m512 pair = _mm512_castps256_ps512(_mm256_loadu_ps(xg + 4 * s));
            __m512 e = _mm512_add_ps(signed_activation(pair, 0, m0), signed_activation(pair, 1, m1));
            e = _mm512_add_ps(e, signed_activation(pair, 2, m2));
            e = _mm512_add_ps(e, signed_activation(pair, 3, m3));
            _mm512_store_ps(scratch->sums + 8 * s, e);
            largest = _mm512_max_ps(largest, _mm512_abs_ps(e));
        }
        float m = _mm512_reduce_max_ps(largest);
        __m512 inverse = _mm512_set1_ps(sa_table_inverse_step(m));
        int8_t *tg = tables + (size_t)g * lut->chunks_per_group * SA_CHUNK_TABLE_BYTES;
        for (int s = 0; s < blocks; s += 2) {
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_load_ps(scratch->sums + 8 * s), inverse));
            __m128i low = _mm512_cvtepi32_epi8(q);
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

/* Distance ahead of the current position that tiles prefetch. */
#define PREFETCH_BYTES 512

/* A tile covering only some blocks of an interleaved set reads them with a stride the
 * hardware prefetcher does not follow. So the first tile of a run of `span` blocks of one set
 * prefetches the next unit of all of them, for itself and the tiles that follow it. */
TARGET static inline void prefetch_run(const uint8_t *at, int span, size_t unit) {
    for (int j = 0; j < span; j++) _mm_prefetch((const char *)(at + PREFETCH_BYTES + (size_t)j * unit), _MM_HINT_T0);
}

/* Largest tile: the arrays below have these fixed sizes (not RB x TT) so that, with RB and
 * TT constant after inlining, they live in registers instead of on the stack. */
#define MAX_RB 4
#define MAX_TT 8

/* RB consecutive row blocks times TT consecutive tokens: the weights are loaded once per
 * tile and each loaded chunk is looked up in the tables of all TT tokens. */
INLINE TARGET void tile(const sa_qlinear *q, const sa_lut *lut, float *y, int block, int t0,
                        int span, const int RB, const int TT) {
    const __m512i ones = _mm512_set1_epi8(1);
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m512i position = _mm512_set1_epi32(0x30201000);
    const size_t tb = lut->token_bytes;
    const int ng = q->ngroups;
    const int8_t *tables = lut->tables + (size_t)t0 * tb;
    const float *step = lut->scale + (size_t)t0 * ng;
    const float *xsum = lut->xsum + (size_t)t0 * ng;
    size_t stride;
    const uint8_t *w[MAX_RB];
    __m512 acc[MAX_RB][MAX_TT];
    for (int r = 0; r < RB; r++) {
        w[r] = sa_block_start(q, block + r, &stride);
        for (int t = 0; t < TT; t++) acc[r][t] = _mm512_setzero_ps();
    }
    const int prefetch = span > 0 && (size_t)RB * q->unit_bytes < stride;
    for (int g = 0; g < ng; g++) {
        const int chunks = sa_chunks_of_group(q->chunks_per_group, q->last_chunks, ng, g);
        const int8_t *tg = tables + (size_t)g * q->chunks_per_group * SA_CHUNK_TABLE_BYTES;
        __m512 gsum[MAX_RB][MAX_TT];
        for (int r = 0; r < RB; r++) {
            for (int t = 0; t < TT; t++) gsum[r][t] = _mm512_setzero_ps();
        }
        for (int p = 0; p < q->bits; p++) {
            __m512i sum[MAX_RB][MAX_TT];
            for (int r = 0; r < RB; r++) {
                for (int t = 0; t < TT; t++) sum[r][t] = _mm512_setzero_si512();
            }
            for (int c = 0; c < chunks; c++) {
                const int8_t *tc = tg + (size_t)c * SA_CHUNK_TABLE_BYTES;
                if (prefetch) prefetch_run(w[0] + (size_t)c * stride, span, q->unit_bytes);
                for (int r = 0; r < RB; r++) {
                    __m512i bits = _mm512_load_si512(w[r] + (size_t)c * stride);
                    __m512i lo = _mm512_ternarylogic_epi32(bits, low, position, 0xEA);
                    __m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(bits, 4), low, position, 0xEA);
                    for (int t = 0; t < TT; t++) {
                        const int8_t *tt = tc + (size_t)t * tb;
                        sum[r][t] = _mm512_dpbusd_epi32(
                            sum[r][t], ones, _mm512_permutexvar_epi8(lo, _mm512_load_si512(tt)));
                        sum[r][t] = _mm512_dpbusd_epi32(
                            sum[r][t], ones, _mm512_permutexvar_epi8(hi, _mm512_load_si512(tt + 64)));
                    }
                }
            }
            if (prefetch) prefetch_run(w[0] + (size_t)chunks * stride, span, q->unit_bytes);
            for (int r = 0; r < RB; r++) {
                __m512 alpha = _mm512_load_ps((const float *)(const void *)(w[r] + (size_t)chunks * stride));
                for (int t = 0; t < TT; t++) {
                    gsum[r][t] = _mm512_fmadd_ps(alpha, _mm512_cvtepi32_ps(sum[r][t]), gsum[r][t]);
                }
                w[r] += (size_t)(chunks + 1) * stride;
            }
        }
        for (int t = 0; t < TT; t++) {
            __m512 s = _mm512_set1_ps(step[(size_t)t * ng + g]);
            for (int r = 0; r < RB; r++) acc[r][t] = _mm512_fmadd_ps(gsum[r][t], s, acc[r][t]);
        }
        if (q->has_beta) {
            for (int t = 0; t < TT; t++) {
                __m512 xs = _mm512_set1_ps(xsum[(size_t)t * ng + g]);
                for (int r = 0; r < RB; r++) {
                    __m512 beta = _mm512_load_ps((const float *)(const void *)w[r]);
                    acc[r][t] = _mm512_fmadd_ps(beta, xs, acc[r][t]);
                }
            }
            for (int r = 0; r < RB; r++) w[r] += stride;
        }
    }
    for (int r = 0; r < RB; r++) {
        int first = (block + r) * SA_BLOCK_ROWS_R16;
        int valid = q->rows - first < SA_BLOCK_ROWS_R16 ? q->rows - first : SA_BLOCK_ROWS_R16;
        __mmask16 keep = (__mmask16)((1u << valid) - 1u);
        for (int t = 0; t < TT; t++) {
            _mm512_mask_storeu_ps(y + (size_t)(t0 + t) * q->rows + first, keep, acc[r][t]);
        }
    }
}

#define TILE(RB, TT)                                                                          \
    TARGET static void tile_##RB##x##TT(const sa_qlinear *q, const sa_lut *lut, float *y,     \
                                        int block, int t0, int span) {                        \
        tile(q, lut, y, block, t0, span, RB, TT);                                             \
    }
TILE(1, 8)
TILE(2, 4)
TILE(1, 4)
TILE(2, 2)
TILE(1, 2)
TILE(4, 1)
TILE(2, 1)
TILE(1, 1)

typedef void (*tile_fn)(const sa_qlinear *, const sa_lut *, float *, int, int, int);

/* Covers `count` blocks of one set from `block` with tiles of at most `wide` blocks; the
 * first tile prefetches for the whole run. */
static void cover(tile_fn wide_fn, int wide, tile_fn pair, tile_fn single, const sa_qlinear *q,
                  const sa_lut *lut, float *y, int block, int count, int t0) {
    int b = block, span = count;
    for (; b + wide <= block + count; b += wide, span = 0) wide_fn(q, lut, y, b, t0, span);
    if (pair) {
        for (; b + 2 <= block + count; b += 2, span = 0) pair(q, lut, y, b, t0, span);
    }
    for (; b < block + count; b++, span = 0) single(q, lut, y, b, t0, span);
}

/* Tiles never cross a set of interleaved blocks, so the blocks of a tile share one stride. */
void sa_apply_avx512(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                     int block_end) {
    for (int b = block_begin; b < block_end;) {
        int set_end = (b / SA_WAYS_R16 + 1) * SA_WAYS_R16;
        int nb = (set_end < block_end ? set_end : block_end) - b;
        int t0 = 0;
        while (t0 < T) {
            int n = T - t0;
            if (n >= 8) {
                cover(tile_1x8, 1, NULL, tile_1x8, q, lut, y, b, nb, t0);
                t0 += 8;
            } else if (n >= 4) {
                cover(tile_2x4, 2, NULL, tile_1x4, q, lut, y, b, nb, t0);
                t0 += 4;
            } else if (n >= 2) {
                cover(tile_2x2, 2, NULL, tile_1x2, q, lut, y, b, nb, t0);
                t0 += 2;
            } else {
                cover(tile_4x1, 4, tile_2x1, tile_1x1, q, lut, y, b, nb, t0);
                t0 += 1;
            }
        }
        b += nb;
    }
}

#else

void sa_lut_build_token_avx512(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t) {
    sa_lut_build_token_scalar(lut, scratch, x, t);
}

void sa_apply_avx512(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                     int block_end) {
    sa_apply_scalar(q, lut, y, T, block_begin, block_end);
}

#endif
