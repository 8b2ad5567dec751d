#include "shiftadd_hadamard.h"

#include <math.h>

uint64_t sa_splitmix64(uint64_t *state) {
    *state += 0x9E3779B97F4A7C15ull;
    uint64_t z = *state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sa_rht_signs(uint64_t seed, float *signs, size_t n) {
    uint64_t state = seed;
    uint64_t word = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i & 63) == 0) word = sa_splitmix64(&state);
        signs[i] = ((word >> (i & 63)) & 1) ? -1.0f : 1.0f;
    }
}

static int valid(const float *x, size_t n, size_t block, const float *signs) {
    if (x == NULL || signs == NULL) return 0;
    if (block == 0 || (block & (block - 1)) != 0) return 0;
    return n % block == 0;
}

/* 1/sqrt(block): exact 2^-k when block = 4^k. */
static float normaliser(size_t block) {
    int log2b = 0;
    while (((size_t)1 << log2b) < block) log2b++;
    if ((log2b & 1) == 0) return ldexpf(1.0f, -log2b / 2);
    return (float)(1.0 / sqrt((double)block));
}

/* Unnormalised in-place fast Walsh–Hadamard transform of one block (Sylvester order). */
static void fwht(float *v, size_t block) {
    for (size_t h = 1; h < block; h <<= 1) {
        for (size_t i = 0; i < block; i += h << 1) {
            for (size_t j = i; j < i + h; j++) {
                float a = v[j];
                float b = v[j + h];
                v[j] = a + b;
                v[j + h] = a - b;
            }
        }
    }
}

int sa_rht(float *x, size_t rows, size_t n, size_t block, const float *signs) {
    if (!valid(x, n, block, signs)) return SA_RHT_EINVAL;
    const float scale = normaliser(block);
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * n;
        for (size_t i = 0; i < n; i++) row[i] *= signs[i];
        for (size_t k = 0; k < n; k += block) fwht(row + k, block);
        for (size_t i = 0; i < n; i++) row[i] *= scale;
    }
    return SA_RHT_OK;
}

int sa_rht_inverse(float *x, size_t rows, size_t n, size_t block, const float *signs) {
    if (!valid(x, n, block, signs)) return SA_RHT_EINVAL;
    const float scale = normaliser(block);
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * n;
        for (size_t k = 0; k < n; k += block) fwht(row + k, block);
        for (size_t i = 0; i < n; i++) row[i] *= scale * signs[i];
    }
    return SA_RHT_OK;
}
