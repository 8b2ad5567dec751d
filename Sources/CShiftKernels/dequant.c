#include "shiftadd_dequant.h"

#include <string.h>

float sa_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            /* Subnormal half: normalise into a float exponent. */
            int e = -1;
            do { e++; mant <<= 1; } while ((mant & 0x400u) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t sa_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) { /* inf or nan */
        return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
    }
    if (absx >= 0x477ff000u) { /* rounds to a value beyond the half range */
        return (uint16_t)(sign | 0x7c00u);
    }
    if (absx < 0x38800000u) { /* subnormal half or zero: round to nearest even */
        if (absx < 0x33000000u) return (uint16_t)sign;
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* value * 2^24 = m >> shift, with shift in 14...24 */
        uint32_t shifted = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (shifted & 1u))) shifted++;
        return (uint16_t)(sign | shifted);
    }
    uint32_t e = (absx >> 23) - 127 + 15;
    uint32_t m = absx & 0x7fffffu;
    uint32_t h = (e << 10) | (m >> 13);
    uint32_t rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static float bf16_to_float(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint16_t read_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

size_t sa_type_block_elements(int type) {
    switch (type) {
    case SA_TYPE_F32: case SA_TYPE_F16: case SA_TYPE_BF16: return 1;
    case SA_TYPE_Q4_0: case SA_TYPE_Q4_1: case SA_TYPE_Q8_0: return 32;
    case SA_TYPE_Q4_K: case SA_TYPE_Q5_K: case SA_TYPE_Q6_K: return 256;
    default: return 0;
    }
}

size_t sa_type_block_bytes(int type) {
    switch (type) {
    case SA_TYPE_F32: return 4;
    case SA_TYPE_F16: case SA_TYPE_BF16: return 2;
    case SA_TYPE_Q4_0: return 18;
    case SA_TYPE_Q4_1: return 20;
    case SA_TYPE_Q8_0: return 34;
    case SA_TYPE_Q4_K: return 144;
    case SA_TYPE_Q5_K: return 176;
    case SA_TYPE_Q6_K: return 210;
    default: return 0;
    }
}

/* The 6-bit scale and min of sub-block j in a K-quant super-block. */
static void k_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

static void dequant_q4_k(const uint8_t *b, float *y) {
    const float d = sa_half_to_float(read_u16(b));
    const float dmin = sa_half_to_float(read_u16(b + 2));
    const uint8_t *scales = b + 4;
    const uint8_t *q = b + 16;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
        uint8_t sc, m;
        k_scale_min(is, scales, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        k_scale_min(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0xf) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
    }
}

static void dequant_q5_k(const uint8_t *b, float *y) {
    const float d = sa_half_to_float(read_u16(b));
    const float dmin = sa_half_to_float(read_u16(b + 2));
    const uint8_t *scales = b + 4;
    const uint8_t *qh = b + 16;
    const uint8_t *ql = b + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32) {
        uint8_t sc, m;
        k_scale_min(is, scales, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        k_scale_min(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0xf) + ((qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        u1 = (uint8_t)(u1 << 2);
        u2 = (uint8_t)(u2 << 2);
    }
}

static void dequant_q6_k(const uint8_t *b, float *y) {
    const uint8_t *ql = b;
    const uint8_t *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    const float d = sa_half_to_float(read_u16(b + 208));
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int q1 = (int)((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = (int)((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

int sa_dequantize(int type, const void *src, float *dst, size_t count) {
    const size_t be = sa_type_block_elements(type);
    const size_t bb = sa_type_block_bytes(type);
    if (be == 0 || count % be != 0) return -1;
    const uint8_t *s = (const uint8_t *)src;
    const size_t blocks = count / be;
    switch (type) {
    case SA_TYPE_F32:
        memcpy(dst, src, count * sizeof(float));
        return 0;
    case SA_TYPE_F16:
        for (size_t i = 0; i < count; i++) dst[i] = sa_half_to_float(read_u16(s + 2 * i));
        return 0;
    case SA_TYPE_BF16:
        for (size_t i = 0; i < count; i++) dst[i] = bf16_to_float(read_u16(s + 2 * i));
        return 0;
    default:
        break;
    }
    for (size_t blk = 0; blk < blocks; blk++, s += bb, dst += be) {
        switch (type) {
        case SA_TYPE_Q8_0: {
            const float d = sa_half_to_float(read_u16(s));
            const int8_t *q = (const int8_t *)(s + 2);
            for (int j = 0; j < 32; j++) dst[j] = d * q[j];
            break;
        }
        case SA_TYPE_Q4_0: {
            const float d = sa_half_to_float(read_u16(s));
            const uint8_t *q = s + 2;
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)((q[j] & 0xf) - 8);
                dst[j + 16] = d * (float)((q[j] >> 4) - 8);
            }
            break;
        }
        case SA_TYPE_Q4_1: {
            const float d = sa_half_to_float(read_u16(s));
            const float m = sa_half_to_float(read_u16(s + 2));
            const uint8_t *q = s + 4;
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)(q[j] & 0xf) + m;
                dst[j + 16] = d * (float)(q[j] >> 4) + m;
            }
            break;
        }
        case SA_TYPE_Q4_K: dequant_q4_k(s, dst); break;
        case SA_TYPE_Q5_K: dequant_q5_k(s, dst); break;
        case SA_TYPE_Q6_K: dequant_q6_k(s, dst); break;
        default: return -1;
        }
    }
    return 0;
}
