#ifndef SHIFTADD_HADAMARD_H
#define SHIFTADD_HADAMARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Randomized block Walsh–Hadamard rotation.
 *
 * For a vector x of length n, a block size B (a power of two dividing n) and a sign vector s of
 * length n (entries +1 or -1), the rotation R is, block by block,
 *     x[k*B ..< (k+1)*B]  <-  H_B (s ⊙ x)[k*B ..< (k+1)*B] / sqrt(B)
 * where H_B is the Sylvester Hadamard matrix (entries ±1, H_B = [[H, H], [H, -H]]).
 * R is orthonormal, so for a weight matrix W whose rows are rotated (W' = W R^T) and activations
 * rotated the same way (x' = R x), W' x' = W x in exact arithmetic.
 *
 * The transform is done in place with additions and subtractions only; the 1/sqrt(B) factor is a
 * power of two when B is a power of four (1, 4, 16, 64, 256, ...), so the multiply is exact, and a
 * rounded float multiply otherwise (B = 2, 8, 32, 128, ...).
 *
 * Ownership: the caller owns every buffer; nothing is allocated or retained. */

/* Return codes. */
#define SA_RHT_OK 0
#define SA_RHT_EINVAL (-1) /* block is 0, not a power of two, or does not divide n; or a NULL buffer */

/* One step of the splitmix64 generator: advances *state and returns the next 64-bit output.
 *     *state += 0x9E3779B97F4A7C15
 *     z = *state; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB
 *     return z ^ (z >> 31) */
uint64_t sa_splitmix64(uint64_t *state);

/* Fills signs[0 ..< n] from a seed: with the generator started at state = seed, the k-th output
 * (k = 0, 1, ...) gives the signs of entries 64k ..< 64k+64; bit j (least significant first) set
 * means signs[64k + j] = -1.0f, clear means +1.0f. Does nothing when n == 0. */
void sa_rht_signs(uint64_t seed, float *signs, size_t n);

/* Applies R to each of `rows` contiguous vectors of length n in x (row-major, rows * n floats). */
int sa_rht(float *x, size_t rows, size_t n, size_t block, const float *signs);

/* Applies R^T (the inverse): x <- s ⊙ (H_B x / sqrt(B)) block by block. */
int sa_rht_inverse(float *x, size_t rows, size_t n, size_t block, const float *signs);

#ifdef __cplusplus
}
#endif

#endif
