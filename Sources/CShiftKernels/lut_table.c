/* Activation tables: storage, dispatch, and the scalar builder that defines the exact
 * arithmetic every vector builder reproduces. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lut_layout.h"
#include "shiftadd_cpu.h"

static int cpu_has_vnni(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

int sa_resolve_isa(int isa, int *resolved) {
    int best = (int)sa_cpu_best_isa();
    if (best == SA_ISA_AVX512 && !cpu_has_vnni()) best = SA_ISA_AVX2;
    if (isa == SA_ISA_BEST) isa = best;
    if (isa != SA_ISA_SCALAR && isa != SA_ISA_AVX2 && isa != SA_ISA_AVX512) return SA_ERR_ARGUMENT;
    if (isa > best) return SA_ERR_ISA;
    *resolved = isa;
    return SA_OK;
}

static void *alloc64(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

sa_lut *sa_lut_create(int max_tokens, int cols, int group_size, int isa, int *err) {
    int status = SA_OK;
    sa_lut *lut = NULL;
    int resolved = SA_ISA_SCALAR;
    if (max_tokens < 1 || max_tokens > SA_MAX_TOKENS || cols < 1 || cols > SA_MAX_DIM ||
        group_size < 8 || group_size > SA_MAX_GROUP || group_size % 8 != 0) {
        status = SA_ERR_ARGUMENT;
        goto done;
    }
    status = sa_resolve_isa(isa, &resolved);
    if (status != SA_OK) goto done;
    lut = calloc(1, sizeof *lut);
    if (!lut) {
        status = SA_ERR_MEMORY;
        goto done;
    }
    lut->max_tokens = max_tokens;
    lut->cols = cols;
    lut->group_size = group_size;
    lut->ngroups = (cols + group_size - 1) / group_size;
    lut->chunks_per_group = (group_size + SA_CHUNK_COLS - 1) / SA_CHUNK_COLS;
    int last_len = cols - (lut->ngroups - 1) * group_size;
    lut->last_chunks = (last_len + SA_CHUNK_COLS - 1) / SA_CHUNK_COLS;
    lut->nchunks = (lut->ngroups - 1) * lut->chunks_per_group + lut->last_chunks;
    lut->isa = resolved;
    lut->token_bytes = (size_t)lut->nchunks * SA_CHUNK_TABLE_BYTES;
    size_t per_token = (size_t)lut->ngroups * sizeof(float);
    size_t padded_cols = (size_t)lut->chunks_per_group * SA_CHUNK_COLS;
    lut->tables = alloc64(lut->token_bytes * (size_t)max_tokens);
    lut->scale = alloc64(per_token * (size_t)max_tokens);
    lut->xsum = alloc64(per_token * (size_t)max_tokens);
    lut->padded = alloc64(padded_cols * sizeof(float));
    lut->sums = alloc64(padded_cols / 4 * 16 * sizeof(float));
    if (!lut->tables || !lut->scale || !lut->xsum || !lut->padded || !lut->sums) {
        status = SA_ERR_MEMORY;
        goto done;
    }
done:
    if (status != SA_OK) {
        sa_lut_free(lut);
        lut = NULL;
    }
    if (err) *err = status;
    return lut;
}

void sa_lut_free(sa_lut *lut) {
    if (!lut) return;
    free(lut->tables);
    free(lut->scale);
    free(lut->xsum);
    free(lut->padded);
    free(lut->sums);
    free(lut);
}

int sa_lut_build(sa_lut *lut, const float *x, int T) {
    if (!lut || !x || T < 1 || T > lut->max_tokens) return SA_ERR_ARGUMENT;
    void (*build)(sa_lut *, const float *, int) =
        lut->isa == SA_ISA_AVX512 ? sa_lut_build_token_avx512
        : lut->isa == SA_ISA_AVX2 ? sa_lut_build_token_avx2
                                  : sa_lut_build_token_scalar;
    for (int t = 0; t < T; t++) build(lut, x + (size_t)t * lut->cols, t);
    lut->tokens = T;
    return SA_OK;
}

int sa_lut_tokens(const sa_lut *lut) { return lut ? lut->tokens : 0; }

size_t sa_lut_bytes(const sa_lut *lut) {
    if (!lut) return 0;
    size_t padded_cols = (size_t)lut->chunks_per_group * SA_CHUNK_COLS;
    return sizeof *lut + lut->token_bytes * (size_t)lut->max_tokens +
           2 * (size_t)lut->ngroups * sizeof(float) * (size_t)lut->max_tokens +
           padded_cols * sizeof(float) * 5;
}

float sa_lut_scale(const sa_lut *lut, int t, int g) {
    if (!lut || t < 0 || t >= lut->tokens || g < 0 || g >= lut->ngroups) return 0.0f;
    return lut->scale[(size_t)t * lut->ngroups + g];
}

const float *sa_lut_group_activations(const sa_lut *lut, const float *x, int g, int *padded) {
    int first = g * lut->group_size;
    int len = lut->cols - first < lut->group_size ? lut->cols - first : lut->group_size;
    *padded = sa_chunks_of_group(lut->chunks_per_group, lut->last_chunks, lut->ngroups, g) *
              SA_CHUNK_COLS;
    if (len == *padded) return x + first;
    memcpy(lut->padded, x + first, (size_t)len * sizeof(float));
    memset(lut->padded + len, 0, (size_t)(*padded - len) * sizeof(float));
    return lut->padded;
}

/* Rounds |v| < 2^22 to the nearest integer, ties to even, as the vector conversions do
 * (adding and removing 1.5 * 2^23 leaves no fraction bits to round into). */
static inline int round_even(float v) {
    float shifted = v + 0x1.8p23f;
    return (int)(shifted - 0x1.8p23f);
}

void sa_lut_build_token_scalar(sa_lut *lut, const float *x, int t) {
    int8_t *tables = lut->tables + (size_t)t * lut->token_bytes;
    for (int g = 0; g < lut->ngroups; g++) {
        int padded;
        const float *xg = sa_lut_group_activations(lut, x, g, &padded);
        int blocks = padded / 4;
        float m = 0.0f;
        for (int s = 0; s < blocks; s++) {
            const float *v = xg + 4 * s;
            float *e = lut->sums + 16 * s;
            for (int i = 0; i < 16; i++) {
                float sum = (i & 1 ? v[0] : -v[0]) + (i & 2 ? v[1] : -v[1]);
                sum = sum + (i & 4 ? v[2] : -v[2]);
                sum = sum + (i & 8 ? v[3] : -v[3]);
                e[i] = sum;
                m = fabsf(sum) > m ? fabsf(sum) : m;
            }
        }
        float inverse = sa_table_inverse_step(m);
        int8_t *tg = tables + (size_t)g * lut->chunks_per_group * SA_CHUNK_TABLE_BYTES;
        for (int s = 0; s < blocks; s++) {
            int8_t *dst = tg + (s / 8) * SA_CHUNK_TABLE_BYTES + sa_block_table_offset(s % 8);
            for (int i = 0; i < 16; i++) dst[i] = (int8_t)round_even(lut->sums[16 * s + i] * inverse);
        }
        float lanes[8] = {0};
        for (int c = 0; c < padded; c += 8) {
            for (int l = 0; l < 8; l++) lanes[l] = lanes[l] + xg[c + l];
        }
        lut->scale[(size_t)t * lut->ngroups + g] = sa_table_step(m);
        lut->xsum[(size_t)t * lut->ngroups + g] = sa_lane_tree8(lanes);
    }
}
