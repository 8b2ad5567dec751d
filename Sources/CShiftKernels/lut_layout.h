#ifndef SHIFTADD_LUT_LAYOUT_H
#define SHIFTADD_LUT_LAYOUT_H

/* Native layouts shared by the table builders and the lookup kernels (private). */

#include <stddef.h>
#include <stdint.h>

#include "shiftadd_kernels.h"

/* Columns are handled in chunks of 32: eight blocks of 4 activations. Each scale group is
 * padded with zero activations to whole chunks, so groups never share a chunk. */
#define SA_CHUNK_COLS 32

/* Tables of one chunk: [half][k][16] int8, where block w (0...7) of the chunk sits at
 * half = w & 1, k = w >> 1. Block w covers chunk columns 4w ... 4w + 3; entry i of a block
 * is the sum of its 4 activations with activation j added when bit j of i is 1 and
 * subtracted when it is 0. So for the 4 weight bytes of a chunk, the low nibble of byte k
 * indexes half 0 and the high nibble indexes half 1, both at k. */
#define SA_CHUNK_TABLE_BYTES 128

#define SA_MAX_GROUP 1024
#define SA_MAX_TOKENS 65536
#define SA_MAX_BITS 8

/* Row blocks of the native weight layout: 16 rows for the scalar and AVX-512 kernels
 * (each chunk is 16 little-endian 32-bit words, one per row), 32 rows for AVX2 (each chunk is
 * 4 slices of 32 bytes, slice k holding byte k of every row). */
#define SA_BLOCK_ROWS_R16 16
#define SA_BLOCK_ROWS_R32 32

/* 16-row blocks are stored four at a time, interleaved unit by unit, so a kernel working on
 * 4 blocks at once (one token) reads one sequential stream; the last group of blocks may
 * interleave fewer. */
#define SA_WAYS_R16 4

struct sa_lut {
    int max_tokens;
    int cols;
    int group_size;
    int ngroups;
    int chunks_per_group; /* chunks of a full group */
    int last_chunks;      /* chunks of the last (possibly shorter) group */
    int nchunks;
    int tokens; /* built */
    int isa;
    size_t token_bytes; /* nchunks * SA_CHUNK_TABLE_BYTES */
    int8_t *tables;     /* [max_tokens][nchunks][128], 64-byte aligned */
    float *scale;       /* [max_tokens][ngroups] quantization steps */
    float *xsum;        /* [max_tokens][ngroups] activation sums (for beta) */
};

/* Scratch of one table build (one per thread building), 64-byte aligned. */
typedef struct {
    float *padded; /* one zero-padded group of activations */
    float *sums;   /* float entries of one group (16 a block, or 8 when the builder derives
                    * entries 8-15 by symmetry) */
} sa_lut_scratch;

/* A row block is a sequence of units of 4 * block_rows bytes: for each group g and plane p,
 * the group's chunks (one unit each), then block_rows float alphas; after the planes of a group
 * come block_rows float betas when the layer has offsets. Padding rows have zero bits and
 * scales. `ways` consecutive blocks are interleaved: unit u of block j of an interleaved set
 * sits at (u * ways_in_set + j) * unit_bytes from the set's start. */
struct sa_qlinear {
    int rows;
    int cols;
    int group_size;
    int bits;
    int ngroups;
    int chunks_per_group;
    int last_chunks;
    int has_beta;
    int isa;
    int block_rows;
    int nblocks;
    int ways;
    size_t unit_bytes;
    size_t block_bytes;
    uint8_t *data; /* [nblocks][block_bytes], 64-byte aligned */
    size_t bytes;  /* everything the object owns */
};

static inline int sa_chunks_of_group(int chunks_per_group, int last_chunks, int ngroups, int g) {
    return g == ngroups - 1 ? last_chunks : chunks_per_group;
}

/* Start of `block`'s first unit; *stride receives the distance between its units. */
static inline const uint8_t *sa_block_start(const struct sa_qlinear *q, int block, size_t *stride) {
    int set = block / q->ways;
    int in_set = q->nblocks - set * q->ways < q->ways ? q->nblocks - set * q->ways : q->ways;
    *stride = (size_t)in_set * q->unit_bytes;
    return q->data + (size_t)set * q->ways * q->block_bytes + (size_t)(block % q->ways) * q->unit_bytes;
}

/* Byte offset of block w's 16 entries inside a chunk's tables. */
static inline int sa_block_table_offset(int w) { return (w & 1) * 64 + (w >> 1) * 16; }

/* The activation sum of one padded group, in an order every instruction set reproduces:
 * eight lane sums over columns l, l + 8, l + 16, ..., then a fixed pairwise tree. */
static inline float sa_lane_tree8(const float lanes[8]) {
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
           ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

/* Reciprocal step for quantizing sums of largest magnitude m to [-127, 127]. A group whose
 * sums are all below 2^-100 is treated as zero (its contribution is far below float
 * resolution of any real product), which also keeps the reciprocal finite. */
static inline float sa_table_inverse_step(float m) { return m >= 0x1p-100f ? 127.0f / m : 0.0f; }
static inline float sa_table_step(float m) { return m >= 0x1p-100f ? m / 127.0f : 0.0f; }

/* Group g's activations padded with zeros to whole chunks: x itself when the group already
 * fills its chunks, else a copy in scratch->padded. *padded receives the padded length. */
const float *sa_lut_group_activations(const sa_lut *lut, sa_lut_scratch *scratch, const float *x, int g, int *padded);

/* Build one token's tables into slot t (x is that token's cols activations). Builds of different
 * slots may run at the same time, each with its own scratch. */
void sa_lut_build_token_scalar(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t);
void sa_lut_build_token_avx2(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t);
void sa_lut_build_token_avx512(sa_lut *lut, sa_lut_scratch *scratch, const float *x, int t);

/* sa_rht(x, 1, n, block, signs) for a block of at least 16 (AVX-512) or 8 (AVX2) dividing n, on
 * vectors, with the same bits. */
void sa_lut_rotate_avx512(float *x, size_t n, size_t block, const float *signs);
void sa_lut_rotate_avx2(float *x, size_t n, size_t block, const float *signs);

/* y rows of row blocks [block_begin, block_end) for tokens [0, T). */
void sa_apply_scalar(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                     int block_end);
void sa_apply_avx2(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                   int block_end);
void sa_apply_avx512(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                     int block_end);

/* Resolves an isa argument (SA_ISA_BEST or an sa_isa value) against sa_cpu_best_isa(); returns
 * SA_OK and stores the level, or SA_ERR_ARGUMENT / SA_ERR_ISA. */
int sa_resolve_isa(int isa, int *resolved);

#endif
