#ifndef SHIFTADD_LINALG_H
#define SHIFTADD_LINALG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Hot loops of the binary-coding quantizer. The caller owns every buffer; nothing is allocated. */

/* The 2^bits values beta + sum_i (+/-)alpha[i] of one row-group (bits 1...4), sorted ascending
 * (ties keep the smaller pattern first); patterns[j] has bit i set when values[j] uses +alpha[i];
 * thresholds[j] is the midpoint of values[j] and values[j + 1], +inf from 2^bits - 1 on.
 * Each value is summed as beta, then +/-alpha[0], +/-alpha[1], ... in that order, as the
 * dequantizer does, so both give the same floats. */
typedef struct {
    float values[16];
    float thresholds[16];
    uint8_t patterns[16];
    int bits;
} sa_levels;

void sa_levels_init(sa_levels *levels, const float alpha[4], float beta, int bits);

/* Index (into values) of the value nearest to x: the number of thresholds below x, so a tie
 * goes to the lower value. Branch-free. */
static inline int sa_levels_nearest(const sa_levels *levels, float x) {
    int j = 0;
    for (int k = 0; k < 15; k++) j += x > levels->thresholds[k];
    return j;
}

/* Maps each of x[0 ..< n] to its nearest value; returns sum (x - value)^2 and adds, per bit
 * pattern p, the count and the sum of the x that chose it to counts[p] and sums[p] (16 each). */
double sa_levels_assign(const sa_levels *levels, const float *x, size_t n, double *counts, double *sums);

/* patterns[i] = the pattern of the value nearest to x[i], for i in [0, n). */
void sa_levels_patterns(const sa_levels *levels, const float *x, size_t n, uint8_t *patterns);

/* Least-squares scales for fixed bit patterns, from the per-pattern counts and sums that
 * sa_levels_assign produces: minimises sum over x of (x - beta - sum_i s_i(p) alpha_i)^2 with
 * s_i(p) = +1 when bit i of the pattern p of x is set, else -1; planes in 1...4. With `offset`,
 * beta is a free unknown, else 0. Writes alpha[0 ..< planes] and *beta. Returns 0, or -1 when
 * the normal equations are singular (a pivot below 1e-9 of the largest entry), leaving the
 * outputs untouched. */
int sa_bcq_least_squares(const double *counts, const double *sums, int planes, int offset,
                         double *alpha, double *beta);

/* Error feedback over the columns [first, last) of one row (GPTQ step): for each column c in
 * order, q = the value nearest to row[c], patterns[c - first] = its pattern,
 * err = (row[c] - q) / u[c * ld + c], errors[c - first] = err, and row[k] -= err * u[c * ld + k]
 * for k in (c, update_end). u is row-major upper triangular with leading dimension ld;
 * update_end >= last. Returns sum of err^2 over the columns whose live[c] is nonzero. */
double sa_feedback_columns(const sa_levels *levels, float *row, size_t first, size_t last, size_t update_end,
                           const float *u, size_t ld, const uint8_t *live, uint8_t *patterns, float *errors);

/* One column block of the normal equations of a row's scale refit. The row's unknowns are
 * numbered g * unknowns + j (group g, unknown j: j < planes is alpha_j, j == planes is beta).
 * signs: unknowns x cols, row j holding, on every column c, the coefficient of unknown j of c's
 * group (+1/-1 for alpha, 1 for beta). t: unknowns x cols, t[i][c] = sum over c' in group g of
 * signs[i][c'] * H[c'][c]. Sets gram[(h * unknowns + j) * n + g * unknowns + i] to
 * sum over c in group h of signs[j][c] * t[i][c] for every group h and unknown j, and
 * rhs[g * unknowns + i] = sum over c of w[c] * t[i][c]; n = groups * unknowns. */
void sa_refit_block(const float *signs, const float *t, const float *w, size_t cols, size_t group_size,
                    size_t g, size_t unknowns, double *gram, double *rhs);

/* LAPACK routines the converter calls. They are defined in libopenblas (32-bit integers), which
 * only the targets that import COpenBLAS link; nothing in this C library calls them. Matrices are
 * column-major; the trailing argument is the hidden Fortran length of `uplo` (always 1). */

/* Cholesky factorisation of a symmetric positive-definite matrix (info > 0: not positive definite). */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);

/* Inverse of a symmetric positive-definite matrix from its dpotrf factor. */
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);

/* Solves a symmetric positive-definite system from its lower (column-major) triangle. */
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
            int *info, size_t uplo_len);

#ifdef __cplusplus
}
#endif

#endif
