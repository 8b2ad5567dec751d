/* Portable lookup kernel on the 16-row layout. Its arithmetic is the reference the vector
 * kernels match bit for bit: integer sums of table entries per (row, group, plane), then per
 * row, in order, gsum = fma(alpha_p, sum_p, gsum) over planes, y = fma(gsum, step, y) and
 * y = fma(beta, xsum, y) over groups. */

#include <math.h>
#include <string.h>

#include "lut_layout.h"

static void apply_block_token(const sa_qlinear *q, const sa_lut *lut, float *y, int block, int t) {
    size_t stride;
    const uint8_t *w = sa_block_start(q, block, &stride);
    const int8_t *tables = lut->tables + (size_t)t * lut->token_bytes;
    const float *step = lut->scale + (size_t)t * lut->ngroups;
    const float *xsum = lut->xsum + (size_t)t * lut->ngroups;
    float acc[SA_BLOCK_ROWS_R16] = {0};
    for (int g = 0; g < q->ngroups; g++) {
        int chunks = sa_chunks_of_group(q->chunks_per_group, q->last_chunks, q->ngroups, g);
        const int8_t *tg = tables + (size_t)g * q->chunks_per_group * SA_CHUNK_TABLE_BYTES;
        float gsum[SA_BLOCK_ROWS_R16] = {0};
        for (int p = 0; p < q->bits; p++) {
            int32_t sum[SA_BLOCK_ROWS_R16] = {0};
            for (int c = 0; c < chunks; c++) {
                const int8_t *tc = tg + (size_t)c * SA_CHUNK_TABLE_BYTES;
                for (int i = 0; i < SA_BLOCK_ROWS_R16; i++) {
                    const uint8_t *bytes = w + 4 * i;
                    int32_t s = 0;
                    for (int k = 0; k < 4; k++) {
                        s += tc[k * 16 + (bytes[k] & 15)] + tc[64 + k * 16 + (bytes[k] >> 4)];
                    }
                    sum[i] += s;
                }
                w += stride;
            }
            const float *alpha = (const float *)(const void *)w;
            for (int i = 0; i < SA_BLOCK_ROWS_R16; i++) gsum[i] = fmaf(alpha[i], (float)sum[i], gsum[i]);
            w += stride;
        }
        for (int i = 0; i < SA_BLOCK_ROWS_R16; i++) acc[i] = fmaf(gsum[i], step[g], acc[i]);
        if (q->has_beta) {
            const float *beta = (const float *)(const void *)w;
            for (int i = 0; i < SA_BLOCK_ROWS_R16; i++) acc[i] = fmaf(beta[i], xsum[g], acc[i]);
            w += stride;
        }
    }
    int first = block * SA_BLOCK_ROWS_R16;
    int valid = q->rows - first < SA_BLOCK_ROWS_R16 ? q->rows - first : SA_BLOCK_ROWS_R16;
    memcpy(y + (size_t)t * q->rows + first, acc, (size_t)valid * sizeof(float));
}

void sa_apply_scalar(const sa_qlinear *q, const sa_lut *lut, float *y, int T, int block_begin,
                     int block_end) {
    for (int b = block_begin; b < block_end; b++) {
        for (int t = 0; t < T; t++) apply_block_token(q, lut, y, b, t);
    }
}
