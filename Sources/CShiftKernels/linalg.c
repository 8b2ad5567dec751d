#include "shiftadd_linalg.h"

#include <math.h>

void sa_levels_init(sa_levels *levels, const float alpha[4], float beta, int bits) {
    const int count = 1 << bits;
    levels->bits = bits;
    for (int j = 0; j < 16; j++) {
        levels->values[j] = INFINITY;
        levels->thresholds[j] = INFINITY;
        levels->patterns[j] = 0;
    }
    /* Insertion sort of the patterns by value as they are generated. */
    for (int pattern = 0; pattern < count; pattern++) {
        float v = beta;
        for (int i = 0; i < bits; i++) v += ((pattern >> i) & 1) ? alpha[i] : -alpha[i];
        int j = pattern;
        while (j > 0 && levels->values[j - 1] > v) {
            levels->values[j] = levels->values[j - 1];
            levels->patterns[j] = levels->patterns[j - 1];
            j--;
        }
        levels->values[j] = v;
        levels->patterns[j] = (uint8_t)pattern;
    }
    for (int j = 0; j + 1 < count; j++) {
        levels->thresholds[j] = levels->values[j] * 0.5f + levels->values[j + 1] * 0.5f;
    }
}

double sa_levels_assign(const sa_levels *levels, const float *x, size_t n, double *counts, double *sums) {
    double error = 0;
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const int j = sa_levels_nearest(levels, v);
        const int p = levels->patterns[j];
        const double d = (double)v - (double)levels->values[j];
        error += d * d;
        counts[p] += 1;
        sums[p] += v;
    }
    return error;
}

int sa_bcq_least_squares(const double *counts, const double *sums, int planes, int offset,
                         double *alpha, double *beta) {
    const int n = planes + (offset ? 1 : 0);
    double m[5][5] = {{0}};
    double rhs[5] = {0};
    /* Unknown k < planes is alpha_k with sign s_k(p); unknown `planes` is beta with sign +1. */
    for (int p = 0; p < (1 << planes); p++) {
        if (counts[p] == 0) continue;
        double s[5];
        for (int k = 0; k < n; k++) s[k] = k == planes ? 1.0 : (((p >> k) & 1) ? 1.0 : -1.0);
        for (int i = 0; i < n; i++) {
            rhs[i] += s[i] * sums[p];
            for (int k = 0; k < n; k++) m[i][k] += s[i] * s[k] * counts[p];
        }
    }
    double scale = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) scale = fmax(scale, fabs(m[i][k]));
    if (scale == 0) return -1;
    /* Gaussian elimination with partial pivoting. */
    for (int col = 0; col < n; col++) {
        int pivot = col;
        for (int r = col + 1; r < n; r++)
            if (fabs(m[r][col]) > fabs(m[pivot][col])) pivot = r;
        if (!(fabs(m[pivot][col]) > scale * 1e-9)) return -1;
        if (pivot != col) {
            for (int k = 0; k < n; k++) {
                double t = m[col][k];
                m[col][k] = m[pivot][k];
                m[pivot][k] = t;
            }
            double t = rhs[col];
            rhs[col] = rhs[pivot];
            rhs[pivot] = t;
        }
        for (int r = col + 1; r < n; r++) {
            const double f = m[r][col] / m[col][col];
            for (int k = col; k < n; k++) m[r][k] -= f * m[col][k];
            rhs[r] -= f * rhs[col];
        }
    }
    double x[5];
    for (int r = n - 1; r >= 0; r--) {
        double v = rhs[r];
        for (int k = r + 1; k < n; k++) v -= m[r][k] * x[k];
        x[r] = v / m[r][r];
    }
    for (int i = 0; i < planes; i++) alpha[i] = x[i];
    *beta = offset ? x[planes] : 0;
    return 0;
}

void sa_levels_patterns(const sa_levels *levels, const float *x, size_t n, uint8_t *patterns) {
    for (size_t i = 0; i < n; i++) patterns[i] = levels->patterns[sa_levels_nearest(levels, x[i])];
}

double sa_feedback_columns(const sa_levels *levels, float *row, size_t first, size_t last, size_t update_end,
                           const float *u, size_t ld, const uint8_t *live, uint8_t *patterns, float *errors) {
    double loss = 0;
    for (size_t c = first; c < last; c++) {
        const float x = row[c];
        const int j = sa_levels_nearest(levels, x);
        const float *urow = u + c * ld;
        const float err = (x - levels->values[j]) / urow[c];
        patterns[c - first] = levels->patterns[j];
        errors[c - first] = err;
        if (live[c]) loss += (double)err * (double)err;
        for (size_t k = c + 1; k < update_end; k++) row[k] -= err * urow[k];
    }
    return loss;
}

void sa_refit_block(const float *signs, const float *t, const float *w, size_t cols, size_t group_size,
                    size_t g, size_t unknowns, double *gram, double *rhs) {
    const size_t groups = (cols + group_size - 1) / group_size;
    const size_t n = groups * unknowns;
    for (size_t i = 0; i < unknowns; i++) {
        const float *ti = t + i * cols;
        double r = 0;
        for (size_t c = 0; c < cols; c++) r += (double)w[c] * ti[c];
        rhs[g * unknowns + i] = r;
        for (size_t h = 0; h < groups; h++) {
            const size_t start = h * group_size;
            const size_t end = start + group_size < cols ? start + group_size : cols;
            for (size_t j = 0; j < unknowns; j++) {
                const float *sj = signs + j * cols;
                float acc = 0;
                for (size_t c = start; c < end; c++) acc += sj[c] * ti[c];
                gram[(h * unknowns + j) * n + g * unknowns + i] = acc;
            }
        }
    }
}
