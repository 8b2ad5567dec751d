#ifndef SHIFTADD_ATTENTION_KERNEL_H
#define SHIFTADD_ATTENTION_KERNEL_H

/* Attention of one token's query heads over the n positions of a paged cache from `first` on (p
 * below counts from there) (private): nkv consecutive kv heads, each shared by nh query heads (kv
 * head g serves query heads g * nh ... g * nh + nh - 1 of the call).
 *
 * Every path computes, per query head and in this order (the scalar kernel is the definition):
 *   score[p] = dot16(q, k[p]) * scale                   (16-lane dot, see float_order.h)
 *   m = max score; e[p] = sa_exp_nonpositive(score[p] - m)
 *   total = 16-lane sum of e (lane l adds positions l, l + 16, ... in order), folded
 *   w[p] = e[p] * (1 / total)
 *   out[d] = fma(w[p], v[p][d], out[d]) over p = 0, 1, ... from out[d] = 0
 * with fp16 keys and values converted to fp32 exactly as they are read, so results are bit-identical across instruction sets and do not depend on how many heads a
 * call covers. */

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const float *q;       /* nkv * nh query heads of head_dim floats, one after another */
    float *out;           /* same layout, overwritten */
    float *scores;        /* nkv * nh rows of at least n floats, scores_stride apart (scratch) */
    size_t scores_stride;
    int nh;               /* query heads per kv head */
    int nkv;              /* kv heads */
    int head_dim;
    const void *k;        /* the layer's key pool, at the first kv head's first element */
    const void *v;        /* the layer's value pool, at the first kv head's first element */
    int half;             /* pool elements are fp16 (else fp32) */
    size_t kv_dim;        /* elements per cached position (all kv heads) */
    const int32_t *table; /* pool block of each block_size positions */
    int block_size;
    int n;                /* positions attended to, >= 1 */
    float scale;
    int first;            /* the first of them: positions first ..< first + n (a sliding window) */
} sa_attention_args;

/* Largest finite fp16 value: cached keys and values saturate there instead of becoming infinite. */
#define SA_HALF_MAX 65504.0f

void sa_attend_scalar(const sa_attention_args *a);
void sa_attend_avx2(const sa_attention_args *a);
void sa_attend_avx512(const sa_attention_args *a);

/* sa_kv_store_half's vector loop (F16C): converts the first n - n % 8 values, returns how many. */
size_t sa_kv_store_half_f16c(uint16_t *dst, const float *src, size_t n);

/* Element `offset` of a pool of fp16 (half) or fp32 values. */
static inline const void *sa_kv_at(const void *base, size_t offset, int half) {
    return (const char *)base + offset * (half ? 2 : 4);
}

/* The part of a call that concerns its kv head g alone (nkv = 1). */
static inline sa_attention_args sa_attention_kv_head(const sa_attention_args *a, int g) {
    sa_attention_args one = *a;
    const size_t first = (size_t)g * (size_t)a->nh, at = (size_t)g * (size_t)a->head_dim;
    one.q = a->q + first * (size_t)a->head_dim;
    one.out = a->out + first * (size_t)a->head_dim;
    one.scores = a->scores + first * a->scores_stride;
    one.nkv = 1;
    one.k = sa_kv_at(a->k, at, a->half);
    one.v = sa_kv_at(a->v, at, a->half);
    return one;
}

/* Walks positions first, first + 1, ... of a block table, giving each one's offset (elements) in
 * the pool; blocks before the first position's are never read. */
typedef struct {
    const int32_t *table;
    int block_size;
    int block;
    int offset;
    size_t kv_dim;
} sa_positions;

static inline sa_positions sa_positions_start(const sa_attention_args *a) {
    sa_positions it = {a->table, a->block_size, a->first / a->block_size, a->first % a->block_size, a->kv_dim};
    return it;
}

static inline size_t sa_positions_next(sa_positions *it) {
    size_t at = ((size_t)it->table[it->block] * (size_t)it->block_size + (size_t)it->offset) * it->kv_dim;
    if (++it->offset == it->block_size) {
        it->offset = 0;
        it->block++;
    }
    return at;
}

#endif
