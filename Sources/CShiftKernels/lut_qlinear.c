/* Quantized layers: validation, packing into the native layout, and the threaded apply. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lut_layout.h"
#include "shiftadd_cpu.h"

static int valid_desc(const sa_qlinear_desc *d) {
    if (!d || !d->planes || !d->alpha) return 0;
    if (d->rows < 1 || d->rows > SA_MAX_DIM || d->cols < 1 || d->cols > SA_MAX_DIM) return 0;
    if (d->group_size < 8 || d->group_size > SA_MAX_GROUP || d->group_size % 8 != 0) return 0;
    if (d->bits < 1 || d->bits > SA_MAX_BITS) return 0;
    size_t ngroups = (size_t)((d->cols + d->group_size - 1) / d->group_size);
    size_t n_alpha = (size_t)d->rows * ngroups * (size_t)d->bits;
    for (size_t i = 0; i < n_alpha; i++) {
        if (!isfinite(d->alpha[i])) return 0;
    }
    if (d->beta) {
        for (size_t i = 0; i < (size_t)d->rows * ngroups; i++) {
            if (!isfinite(d->beta[i])) return 0;
        }
    }
    return 1;
}

/* Bits of columns [col0, col0 + 8) of one row of one plane, cut at the group's end. */
static uint8_t weight_byte(const sa_qlinear_desc *d, int plane, int row, int col0, int group_end) {
    if (col0 >= group_end) return 0;
    size_t words = (size_t)(d->cols + 63) / 64;
    uint64_t word = d->planes[((size_t)plane * d->rows + row) * words + (size_t)col0 / 64];
    unsigned valid = group_end - col0 < 8 ? (unsigned)(group_end - col0) : 8u;
    return (uint8_t)((word >> (col0 % 64)) & ((1u << valid) - 1u));
}

/* Offset of byte k of row i inside one chunk slab. */
static size_t slab_offset(int block_rows, int i, int k) {
    return block_rows == SA_BLOCK_ROWS_R16 ? (size_t)i * 4 + (size_t)k
                                           : (size_t)k * SA_BLOCK_ROWS_R32 + (size_t)i;
}

static void pack(sa_qlinear *q, const sa_qlinear_desc *d) {
    const int br = q->block_rows;
    for (int b = 0; b < q->nblocks; b++) {
        size_t stride;
        uint8_t *dst = (uint8_t *)sa_block_start(q, b, &stride);
        for (int g = 0; g < q->ngroups; g++) {
            int group_end = (g + 1) * q->group_size < q->cols ? (g + 1) * q->group_size : q->cols;
            int chunks = sa_chunks_of_group(q->chunks_per_group, q->last_chunks, q->ngroups, g);
            for (int p = 0; p < q->bits; p++) {
                for (int c = 0; c < chunks; c++) {
                    for (int i = 0; i < br; i++) {
                        int row = b * br + i;
                        for (int k = 0; k < 4; k++) {
                            int col0 = g * q->group_size + c * SA_CHUNK_COLS + 8 * k;
                            dst[slab_offset(br, i, k)] =
                                row < q->rows ? weight_byte(d, p, row, col0, group_end) : 0;
                        }
                    }
                    dst += stride;
                }
                float *alpha = (float *)(void *)dst;
                for (int i = 0; i < br; i++) {
                    int row = b * br + i;
                    alpha[i] = row < q->rows
                                   ? d->alpha[((size_t)row * q->ngroups + g) * q->bits + p]
                                   : 0.0f;
                }
                dst += stride;
            }
            if (q->has_beta) {
                float *beta = (float *)(void *)dst;
                for (int i = 0; i < br; i++) {
                    int row = b * br + i;
                    beta[i] = row < q->rows ? d->beta[(size_t)row * q->ngroups + g] : 0.0f;
                }
                dst += stride;
            }
        }
    }
}

sa_qlinear *sa_qlinear_create(const sa_qlinear_desc *desc, int isa, int *err) {
    int status = SA_OK;
    sa_qlinear *q = NULL;
    int resolved = SA_ISA_SCALAR;
    if (!valid_desc(desc)) {
        status = SA_ERR_ARGUMENT;
        goto done;
    }
    status = sa_resolve_isa(isa, &resolved);
    if (status != SA_OK) goto done;
    q = calloc(1, sizeof *q);
    if (!q) {
        status = SA_ERR_MEMORY;
        goto done;
    }
    q->rows = desc->rows;
    q->cols = desc->cols;
    q->group_size = desc->group_size;
    q->bits = desc->bits;
    q->ngroups = (desc->cols + desc->group_size - 1) / desc->group_size;
    q->chunks_per_group = (desc->group_size + SA_CHUNK_COLS - 1) / SA_CHUNK_COLS;
    int last_len = desc->cols - (q->ngroups - 1) * desc->group_size;
    q->last_chunks = (last_len + SA_CHUNK_COLS - 1) / SA_CHUNK_COLS;
    q->has_beta = desc->beta != NULL;
    q->isa = resolved;
    q->block_rows = resolved == SA_ISA_AVX2 ? SA_BLOCK_ROWS_R32 : SA_BLOCK_ROWS_R16;
    q->nblocks = (desc->rows + q->block_rows - 1) / q->block_rows;
    q->ways = resolved == SA_ISA_AVX2 ? 1 : SA_WAYS_R16;
    size_t nchunks = (size_t)(q->ngroups - 1) * q->chunks_per_group + q->last_chunks;
    q->unit_bytes = (size_t)4 * q->block_rows;
    q->block_bytes = q->unit_bytes * (nchunks * q->bits + (size_t)q->ngroups * q->bits +
                                      (q->has_beta ? (size_t)q->ngroups : 0));
    size_t data_bytes = q->block_bytes * (size_t)q->nblocks;
    q->data = aligned_alloc(64, data_bytes);
    if (!q->data) {
        status = SA_ERR_MEMORY;
        goto done;
    }
    q->bytes = sizeof *q + data_bytes;
    pack(q, desc);
done:
    if (status != SA_OK) {
        sa_qlinear_free(q);
        q = NULL;
    }
    if (err) *err = status;
    return q;
}

void sa_qlinear_free(sa_qlinear *q) {
    if (!q) return;
    free(q->data);
    free(q);
}

size_t sa_qlinear_bytes(const sa_qlinear *q) { return q ? q->bytes : 0; }
int sa_qlinear_rows(const sa_qlinear *q) { return q ? q->rows : 0; }
int sa_qlinear_cols(const sa_qlinear *q) { return q ? q->cols : 0; }
int sa_qlinear_group_size(const sa_qlinear *q) { return q ? q->group_size : 0; }
int sa_qlinear_bits(const sa_qlinear *q) { return q ? q->bits : 0; }
int sa_qlinear_isa(const sa_qlinear *q) { return q ? q->isa : -1; }

/* Products below this many weight bits times tokens (summed over the layers of one call) run on
 * the caller alone: measured on a 2-core machine, splitting them costs more in hand-off than it
 * gains (192 x 576 x 3 bits, one token: 2.5 us alone, 3.3 us on two threads; 576 x 1536 x 3
 * bits: 22 us alone, 16 us on two). */
#define MIN_PARALLEL_WORK (1u << 21)

static void run_blocks(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin, int block_end) {
    switch (q->isa) {
    case SA_ISA_AVX512:
        sa_apply_avx512(q, lut, y, T, block_begin, block_end);
        break;
    case SA_ISA_AVX2:
        sa_apply_avx2(q, lut, y, T, block_begin, block_end);
        break;
    default:
        sa_apply_scalar(q, lut, y, T, block_begin, block_end);
        break;
    }
}

typedef struct {
    const sa_qlinear *const *qs;
    float *const *ys;
    const sa_lut *lut;
    int T;
    int first_task[SA_MAX_LAYERS_PER_APPLY + 1]; /* layer i's tasks are [first_task[i], first_task[i + 1]) */
} apply_job;

/* Sets of interleaved blocks of a layer: the unit its rows are split in. */
static int units_of(const sa_qlinear *q) { return (q->nblocks + q->ways - 1) / q->ways; }

/* A task takes a contiguous range of whole interleaved sets of one layer (so each set is read as
 * one stream by one thread); every row is computed by one task. */
static void apply_task(void *ctx, int task) {
    const apply_job *job = ctx;
    int i = 0;
    while (task >= job->first_task[i + 1]) i++;
    const sa_qlinear *q = job->qs[i];
    const int part = task - job->first_task[i], parts = job->first_task[i + 1] - job->first_task[i];
    const int units = units_of(q);
    int u0 = (int)((long long)units * part / parts);
    int u1 = (int)((long long)units * (part + 1) / parts);
    int b1 = u1 * q->ways < q->nblocks ? u1 * q->ways : q->nblocks;
    run_blocks(q, job->lut, job->ys[i], job->T, u0 * q->ways, b1);
}

int sa_qlinear_apply_many(const sa_qlinear *const *qs, float *const *ys, int count, const sa_lut *lut, int T,
                          sa_threadpool *pool) {
    if (!qs || !ys || !lut || count < 1 || count > SA_MAX_LAYERS_PER_APPLY || T < 1) return SA_ERR_ARGUMENT;
    size_t work = 0;
    for (int i = 0; i < count; i++) {
        const sa_qlinear *q = qs[i];
        if (!q || !ys[i]) return SA_ERR_ARGUMENT;
        if (lut->cols != q->cols || lut->group_size != q->group_size || T > lut->tokens) return SA_ERR_MISMATCH;
        work += (size_t)q->rows * (size_t)q->cols * (size_t)q->bits * (size_t)T;
    }
    const int threads = pool ? sa_threadpool_size(pool) : 1;
    const int split = threads > 1 && work >= MIN_PARALLEL_WORK;
    apply_job job = {qs, ys, lut, T, {0}};
    for (int i = 0; i < count; i++) {
        int units = units_of(qs[i]);
        int parts = !split ? 1 : units < 4 * threads ? units : 4 * threads;
        job.first_task[i + 1] = job.first_task[i] + parts;
    }
    if (!split || job.first_task[count] == 1) {
        for (int i = 0; i < count; i++) run_blocks(qs[i], lut, ys[i], T, 0, qs[i]->nblocks);
        return SA_OK;
    }
    return sa_threadpool_run(pool, job.first_task[count], apply_task, &job);
}

int sa_qlinear_apply(const sa_qlinear *q, const sa_lut *lut, float *y, int T, sa_threadpool *pool) {
    if (!q || !y) return SA_ERR_ARGUMENT;
    return sa_qlinear_apply_many(&q, &y, 1, lut, T, pool);
}

int sa_qlinear_forward(const sa_qlinear *q, sa_lut *lut, const float *x, float *y, int T,
                       sa_threadpool *pool) {
    if (!q || !lut || !x || !y) return SA_ERR_ARGUMENT;
    if (lut->cols != q->cols || lut->group_size != q->group_size) return SA_ERR_MISMATCH;
    int status = sa_lut_build(lut, x, T);
    if (status != SA_OK) return status;
    return sa_qlinear_apply(q, lut, y, T, pool);
}
