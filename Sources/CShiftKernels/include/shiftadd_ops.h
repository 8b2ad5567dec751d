#ifndef SHIFTADD_OPS_H
#define SHIFTADD_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "shiftadd_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The parts of the quantized engine's forward pass beside the projections: the int8 output head,
 * RMSNorm, the SwiGLU and GELU-gated activations, rotary embeddings, attention over a paged KV
 * cache and the sampling helpers. All buffers are the caller's unless an object says otherwise;
 * nothing else is retained. Each token's result depends only on that token's inputs, whatever the
 * batch (batch invariance). Results are the same bits on every instruction set: the head's dot
 * products are exact integers; attention's run on 16 lanes (lane l takes elements l, l + 16, ...
 * by fused multiply-adds) folded in a fixed tree, with its own exponential (within 2 ulp of exp).
 * Where an `isa` argument is taken it is an sa_isa level (shiftadd_cpu.h), or -1 for the best
 * available (sa_cpu_best_isa); a level above that gives SA_ERR_ISA. */

/* An int8 output head: the fp16 rows, rotated by a randomized block Walsh-Hadamard transform
 * (shiftadd_hadamard.h; signs from `seed`, block the largest power of two up to 64 dividing cols)
 * and quantized to int8 with one scale per row (largest magnitude / 127, rounded to nearest even),
 * padded to whole 64-byte vectors. Owned by the caller of sa_i8_head_create and freed with
 * sa_i8_head_free; it keeps no pointer to the fp16 rows.
 * sa_i8_head_create returns NULL and sets *err (SA_ERR_ARGUMENT for a shape outside 1 ... 65536
 * columns, SA_ERR_MEMORY) on failure; every row is zero until quantized.
 * sa_i8_head_quantize fills rows [r0, r1) from fp16 rows w[0 ...] (row r0 first); SA_ERR_ARGUMENT
 * for a NaN or infinite weight (rows before it are filled).
 * sa_i8_head_export copies rows [r0, r1) out as the head holds them: q[(r - r0) * cols + c] (int8,
 * without padding) and scale[r - r0]; sa_i8_head_load fills rows [r0, r1) from such copies (a
 * stored head), SA_ERR_ARGUMENT for a value of -128 or a scale that is negative or not finite
 * (rows before it are filled). A head loaded from an export computes the same bits as the original.
 * sa_i8_head_row writes row r as the head holds it, dequantized and rotated back (cols floats). */
typedef struct sa_i8_head sa_i8_head;
sa_i8_head *sa_i8_head_create(int rows, int cols, uint64_t seed, int *err);
int sa_i8_head_quantize(sa_i8_head *h, const uint16_t *w, int r0, int r1);
int sa_i8_head_export(const sa_i8_head *h, int8_t *q, float *scale, int r0, int r1);
int sa_i8_head_load(sa_i8_head *h, const int8_t *q, const float *scale, int r0, int r1);
int sa_i8_head_row(const sa_i8_head *h, int r, float *out);
void sa_i8_head_free(sa_i8_head *h);
/* Bytes the head holds. */
size_t sa_i8_head_bytes(const sa_i8_head *h);

/* y[t][r] = dot(wq[r], xq[t]) * (xscale[t] * wscale[r]) for fp32 x [T][cols] and y [T][rows]:
 * each token rotated like the rows and quantized to int8 with its own scale, the dot products in
 * exact 32-bit integers, so every instruction set and batch gives the same bits. A token with a
 * NaN or infinite value gets NaN logits. Splits rows over `pool` (NULL: caller only).
 * Returns SA_OK, SA_ERR_ARGUMENT, SA_ERR_ISA or SA_ERR_MEMORY. */
int sa_i8_head_apply(const sa_i8_head *h, const float *x, int T, float *y, sa_threadpool *pool, int isa);

/* y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * gain, for T rows of `width`. x and y may alias. */
void sa_rmsnorm(const float *x, const float *gain, float *y, int T, int width, float eps);

/* gate[i] = silu(gate[i]) * up[i] for `count` values, with silu(g) = g * s and the sigmoid s from
 * e = exp(-|g|) (the attention's exponential): 1 / (1 + e) for g >= 0, e / (1 + e) below, so no
 * exponential overflows. The same bits on every instruction set.
 * Returns SA_OK or SA_ERR_ARGUMENT / SA_ERR_ISA. */
int sa_swiglu(float *gate, const float *up, size_t count, int isa);

/* gate[i] = gelu(gate[i]) * up[i] for `count` values, with GELU's tanh form
 * gelu(g) = 0.5 * g * (1 + tanh(sqrt(2 / pi) * (g + 0.044715 * g^3))) (Gemma's MLP), computed as
 * g * sigmoid(z) with z = g * (a + b * g * g), a = 2 * sqrt(2 / pi), b = 0.044715 * a (the same
 * function, as 0.5 * (1 + tanh(u)) = sigmoid(2u)), and the sigmoid as in sa_swiglu. The same bits
 * on every instruction set.
 * Returns SA_OK or SA_ERR_ARGUMENT / SA_ERR_ISA. */
int sa_gelu_gated(float *gate, const float *up, size_t count, int isa);

/* Sampling over a vocabulary. sa_logits_argmax stores the index of the first largest of `count`
 * values in *index (NaN counts as -infinity; 0 when no value is above -infinity).
 * sa_logits_exp_sum computes the softmax weights exp((v - max) * scale) of the values (NaN as
 * -infinity; the attention's exponential, so below e^-80 a weight is 0), stores them in `weights`
 * unless it is NULL, and their sum in *sum: lane i % 16 of 16 double lanes takes weight i, and the
 * lanes are added from 0 to 15. `max` must be finite and no value above it, `scale` positive and
 * finite. Both give the same results on every instruction set.
 * Return SA_OK or SA_ERR_ARGUMENT / SA_ERR_ISA. */
int sa_logits_argmax(const float *values, size_t count, size_t *index, int isa);
int sa_logits_exp_sum(const float *values, size_t count, float max, float scale, float *weights, double *sum,
                      int isa);

/* Rotates `heads` heads of `head_dim` at one position. cos/sin hold head_dim / 2 values for that
 * position. interleaved != 0: pairs (2i, 2i+1); else pairs (i, i + head_dim / 2). */
void sa_rope(float *v, int heads, int head_dim, const float *cos_table, const float *sin_table, int interleaved);

/* Attention of one query token over positions [0, n_positions) of a paged cache.
 * q: [heads][head_dim]; out: [heads][head_dim], overwritten.
 * k_pool, v_pool: one layer's blocks, [n_blocks][block_size][kv_heads * head_dim];
 * block_table[i] is the pool block holding positions [i * block_size, (i + 1) * block_size).
 * Query head h reads kv head h / (heads / kv_heads). scores: scratch of n_positions floats.
 * Returns SA_OK or SA_ERR_ARGUMENT. */
int sa_attention_paged(const float *q, float *out, int heads, int kv_heads, int head_dim,
                       const float *k_pool, const float *v_pool, const int32_t *block_table,
                       int block_size, int n_positions, float scale, float *scores);

/* Element type of a cache pool. */
typedef enum {
    SA_KV_F32 = 0,
    SA_KV_F16 = 1 /* written with sa_kv_store_half */
} sa_kv_type;

/* sa_attention_paged for T query tokens at once, split over `pool` (NULL: caller only), over
 * pools of `kv_type` elements (fp16 values are converted exactly to fp32 as they are read; the
 * arithmetic is the same). q, out: [T][heads * head_dim]; tables[t] and n_positions[t] (>= 1)
 * give token t's block table and how many positions it attends to. `window` > 0 is a sliding
 * window: token t then attends only to the last `window` of its positions,
 * max(0, n_positions[t] - window) ..< n_positions[t], and the table's blocks wholly before those
 * are never read (they may be freed); 0 means the whole context. Work is split by (token, kv
 * head), and a kv head's query heads further only when that gives too few tasks for the threads;
 * the query heads of a task share every key and value read. Scores go to scratch memory each
 * thread keeps between calls (freed when the thread ends). `isa` as in shiftadd_cpu.h, or -1 for
 * the best available.
 * Returns SA_OK, SA_ERR_ISA, SA_ERR_MEMORY, or SA_ERR_ARGUMENT (also for a negative window, or
 * when T * heads exceeds SA_THREADPOOL_MAX_TASKS). */
int sa_attention_paged_batch(const float *q, float *out, int T, int heads, int kv_heads, int head_dim,
                             const void *k_pool, const void *v_pool, int kv_type, const int32_t *const *tables,
                             const int *n_positions, int window, int block_size, float scale, sa_threadpool *pool,
                             int isa);

/* Writes n values to the cache as fp16: rounded to nearest even, saturated at +-65504. */
void sa_kv_store_half(uint16_t *dst, const float *src, size_t n);

#ifdef __cplusplus
}
#endif

#endif
