#ifndef SHIFTADD_FLOAT_ORDER_H
#define SHIFTADD_FLOAT_ORDER_H

/* Float arithmetic in an order every instruction set reproduces bit for bit (private).
 *
 * Dot products run on 16 lanes: lane l accumulates elements l, l + 16, l + 32, ... with fused
 * multiply-adds, the last 16 padded with zeros, and the lanes are then folded in a fixed tree
 * (lane l + lane l + 8, then + 4, + 2, + 1). The scalar code below is the definition; the AVX2
 * (two 8-lane halves) and AVX-512 kernels compute the same operations in the same order. */

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Products and sums are rounded as written: no multiply-add contraction the other paths lack. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define SA_LANES 16

static inline float sa_fold16(const float a[SA_LANES]) {
    float s8[8], s4[4];
    for (int l = 0; l < 8; l++) s8[l] = a[l] + a[l + 8];
    for (int l = 0; l < 4; l++) s4[l] = s8[l] + s8[l + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* exp(x) for x <= 0 (softmax weights): x < SA_EXP_MIN gives 0 (e^-80 is below 2^-115, far under
 * the float resolution of the weight 1 the largest score gets); otherwise x = n ln2 + r with
 * |r| <= ln2 / 2 (ln2 split in two parts so n ln2 is exact), e^r by its Taylor series to r^7
 * (truncation below 1e-8 relative) in Horner form, and 2^n added to the exponent. Within 2 ulp
 * of the exact value. */
#define SA_EXP_MIN (-80.0f)
#define SA_LOG2E 1.44269504088896341f
#define SA_LN2_HI 0.693359375f
#define SA_LN2_LO (-2.12194440e-4f)
#define SA_EXP_C7 (1.0f / 5040.0f)
#define SA_EXP_C6 (1.0f / 720.0f)
#define SA_EXP_C5 (1.0f / 120.0f)
#define SA_EXP_C4 (1.0f / 24.0f)
#define SA_EXP_C3 (1.0f / 6.0f)

/* Round to the nearest integer, ties to even, for |v| < 2^22. */
static inline float sa_round_even_f(float v) {
    float shifted = v + 0x1.8p23f;
    return shifted - 0x1.8p23f;
}

static inline float sa_exp_nonpositive(float x) {
    if (x < SA_EXP_MIN) return 0.0f;
    float scaled = x * SA_LOG2E;
    float n = sa_round_even_f(scaled);
    float r = fmaf(n, -SA_LN2_HI, x);
    r = fmaf(n, -SA_LN2_LO, r);
    float p = SA_EXP_C7;
    p = fmaf(p, r, SA_EXP_C6);
    p = fmaf(p, r, SA_EXP_C5);
    p = fmaf(p, r, SA_EXP_C4);
    p = fmaf(p, r, SA_EXP_C3);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t bits;
    memcpy(&bits, &p, sizeof bits);
    bits += (int32_t)n * (1 << 23);
    memcpy(&p, &bits, sizeof p);
    return p;
}

#endif
