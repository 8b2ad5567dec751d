#ifndef SHIFTADD_KERNELS_H
#define SHIFTADD_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "shiftadd_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Multiplication-free products of quantized linear layers with token activations.
 *
 * Weights are binary planes with per-group scales:
 *   value(r, c) = beta[r][g] + sum_p alpha[r][g][p] * (bit_p(r, c) ? +1 : -1),  g = c / group_size
 *   y[t][r]     = sum_c value(r, c) * x[t][c]
 *
 * The product runs in two steps. sa_lut_build turns each token's activations into lookup
 * tables: for every 4 consecutive activations the 16 signed sums, quantized to int8 with one
 * scale per activation group (the same groups as the weights). sa_qlinear_apply then looks
 * every 4 weight bits up in those tables, adds the results in integers, and applies each
 * alpha once per (row, group, plane) and each beta once per (row, group). Projections that
 * read the same input (q, k, v; gate, up) share one table build.
 *
 * Results are identical bit for bit on every instruction set, for any thread count, and for
 * any batch size (token t's output depends only on token t): the integer sums are exact and
 * every path combines them with the same fused multiply-adds in the same order. They differ from the exact
 * product only by the table quantization: per group and token, each 4-activation sum is off
 * by at most half a table step, where step = max over the group's 4-activation blocks of
 * (|x0| + |x1| + |x2| + |x3|) / 127 (sa_lut_scale returns it).
 *
 * Objects are immutable once built, except a table during sa_lut_build: applying any number of
 * matrices to one built table from several threads at once is safe. */

/* The canonical form of one quantized linear layer (what the converter writes).
 * All arrays are borrowed: sa_qlinear_create copies them into its own layout. */
typedef struct {
    int rows;       /* outputs, >= 1 */
    int cols;       /* inputs, >= 1 */
    /* Columns per scale group: a multiple of 8 in [8, 1024]. Groups are processed in
     * 32-column chunks, so sizes that are multiples of 32 waste no work. */
    int group_size;
    int bits;       /* planes, 1 ... 8 */
    /* [bits][rows][ceil(cols / 64)] words; bit (c % 64) of word c / 64 is 1 for +1, 0 for -1.
     * Bits past `cols` are ignored. */
    const uint64_t *planes;
    /* [rows][ceil(cols / group_size)][bits] finite scales (sums of signed powers of two). */
    const float *alpha;
    /* [rows][ceil(cols / group_size)] finite offsets, or NULL for none. */
    const float *beta;
} sa_qlinear_desc;

typedef struct sa_qlinear sa_qlinear;
typedef struct sa_lut sa_lut;

/* Largest row or column count. */
#define SA_MAX_DIM (1 << 20)

/* Instruction set argument meaning "the best available": sa_cpu_best_isa(), the best this CPU
 * supports unless SHIFTADD_KERNELS lowers it. */
#define SA_ISA_BEST (-1)

/* Builds the native form of a layer for instruction set `isa` (SA_ISA_SCALAR, SA_ISA_AVX2,
 * SA_ISA_AVX512 from shiftadd_cpu.h, or SA_ISA_BEST). The AVX-512 level includes VNNI, so
 * SA_ISA_BEST picks AVX2 on an AVX-512 CPU without it.
 * Returns NULL and sets *err (if not NULL) to SA_ERR_ARGUMENT for a bad descriptor, SA_ERR_ISA
 * for an instruction set this CPU lacks, or SA_ERR_MEMORY. Free with sa_qlinear_free. */
sa_qlinear *sa_qlinear_create(const sa_qlinear_desc *desc, int isa, int *err);

/* Frees a layer. NULL is ignored. */
void sa_qlinear_free(sa_qlinear *q);

/* Bytes the layer holds (native weights, scales, offsets and the object itself). */
size_t sa_qlinear_bytes(const sa_qlinear *q);

int sa_qlinear_rows(const sa_qlinear *q);
int sa_qlinear_cols(const sa_qlinear *q);
int sa_qlinear_group_size(const sa_qlinear *q);
int sa_qlinear_bits(const sa_qlinear *q);
/* The instruction set the layer runs on (an sa_isa value). */
int sa_qlinear_isa(const sa_qlinear *q);

/* Creates table storage for up to `max_tokens` (1 ... 65536) tokens of `cols` activations,
 * grouped as the layers it will serve (`group_size` as in sa_qlinear_desc); `isa` chooses the
 * build code as in sa_qlinear_create. A table may serve layers of any instruction set.
 * Returns NULL and sets *err on failure. Free with sa_lut_free. */
sa_lut *sa_lut_create(int max_tokens, int cols, int group_size, int isa, int *err);

/* Frees a table. NULL is ignored. */
void sa_lut_free(sa_lut *lut);

/* Builds the tables of T tokens, x row-major [T][cols] of finite values (1 <= T <= max_tokens),
 * replacing the previous contents. Not safe to run while the table is being applied. Returns
 * SA_OK, SA_ERR_ARGUMENT or SA_ERR_MEMORY (build scratch). */
int sa_lut_build(sa_lut *lut, const float *x, int T);

/* sa_lut_build with the tokens split over `pool` (NULL: the caller alone); when `signs` is not
 * NULL each token's activations are first rotated in place by sa_rht(x_t, 1, cols,
 * rotation_block, signs) (shiftadd_hadamard.h), as a bundle converted with rotation needs. The
 * tables equal sa_lut_build's of the rotated x. Returns SA_OK, SA_ERR_ARGUMENT (also for a
 * rotation sa_rht rejects), or SA_ERR_MEMORY; on failure the table holds no tokens. */
int sa_lut_build_threaded(sa_lut *lut, float *x, int T, const float *signs, size_t rotation_block,
                          sa_threadpool *pool);

/* Tokens held by the last build (0 before the first). */
int sa_lut_tokens(const sa_lut *lut);

/* Bytes the table storage holds. */
size_t sa_lut_bytes(const sa_lut *lut);

/* Quantization step of token t's activation group g in the last build (see above). */
float sa_lut_scale(const sa_lut *lut, int t, int g);

/* y[t][r] for the first T tokens of a built table (1 <= T <= sa_lut_tokens); y is row-major
 * [T][rows] and is overwritten. Splits the rows over `pool` when one is given (NULL: caller's
 * thread only) and the product is large enough to gain from it (at least 2^21 weight bits
 * times tokens); the result does not depend on the split. Returns SA_OK, SA_ERR_ARGUMENT, or SA_ERR_MISMATCH when the table was built
 * for other columns or another group size, or holds fewer than T tokens. */
int sa_qlinear_apply(const sa_qlinear *q, const sa_lut *lut, float *y, int T, sa_threadpool *pool);

/* Most layers one sa_qlinear_apply_many call takes. */
#define SA_MAX_LAYERS_PER_APPLY 8

/* sa_qlinear_apply for `count` layers that read the same table (q, k and v; gate and up) in one
 * hand-out over the pool: ys[i] ([T][rows of qs[i]]) receives layer qs[i]'s product. Whether the
 * rows are split over threads depends on the total size, so layers too small to split alone
 * still run beside each other; results equal separate sa_qlinear_apply calls bit for bit.
 * Returns as sa_qlinear_apply (SA_ERR_ARGUMENT also for count outside 1 ...
 * SA_MAX_LAYERS_PER_APPLY). */
int sa_qlinear_apply_many(const sa_qlinear *const *qs, float *const *ys, int count, const sa_lut *lut, int T,
                          sa_threadpool *pool);

/* sa_lut_build(lut, x, T) followed by sa_qlinear_apply(q, lut, y, T, pool). */
int sa_qlinear_forward(const sa_qlinear *q, sa_lut *lut, const float *x, float *y, int T,
                       sa_threadpool *pool);

#ifdef __cplusplus
}
#endif

#endif
