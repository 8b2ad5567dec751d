#include "shiftadd_dequant.h"

#include <string.h>

/* Results must match the reference decoder bit for bit: a fused multiply-add rounds once where
 * the reference rounds the product and the sum separately. */
#pragma STDC FP_CONTRACT OFF

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

static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* The 16 levels of IQ4_NL and IQ4_XS quants, fixed by the format (ggml's kvalues_iq4nl). */
static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

size_t sa_type_block_elements(int type) {
    switch (type) {
    case SA_TYPE_F32: case SA_TYPE_F16: case SA_TYPE_BF16: return 1;
    case SA_TYPE_Q4_0: case SA_TYPE_Q4_1: case SA_TYPE_Q5_0: case SA_TYPE_Q5_1: case SA_TYPE_Q8_0:
    case SA_TYPE_IQ4_NL: return 32;
    case SA_TYPE_Q2_K: case SA_TYPE_Q3_K: case SA_TYPE_Q4_K: case SA_TYPE_Q5_K: case SA_TYPE_Q6_K:
    case SA_TYPE_IQ4_XS: return 256;
    default: return 0;
    }
}

size_t sa_type_block_bytes(int type) {
    switch (type) {
    case SA_TYPE_F32: return 4;
    case SA_TYPE_F16: case SA_TYPE_BF16: return 2;
    case SA_TYPE_Q4_0: return 18;
    case SA_TYPE_Q4_1: return 20;
    case SA_TYPE_Q5_0: return 22;
    case SA_TYPE_Q5_1: return 24;
    case SA_TYPE_Q8_0: return 34;
    case SA_TYPE_IQ4_NL: return 18;
    case SA_TYPE_Q2_K: return 84;
    case SA_TYPE_Q3_K: return 110;
    case SA_TYPE_Q4_K: return 144;
    case SA_TYPE_Q5_K: return 176;
    case SA_TYPE_Q6_K: return 210;
    case SA_TYPE_IQ4_XS: return 136;
    default: return 0;
    }
}

/* Q2_K: 16 scale bytes (low nibble scale, high nibble min of each 16-element group), 64 bytes
 * of 2-bit quants, fp16 d, fp16 dmin. Byte l of each 32-byte half holds, from its low bits up,
 * elements l, l + 32, l + 64 and l + 96 of that half. */
static void dequant_q2_k(const uint8_t *b, float *y) {
    const uint8_t *scales = b;
    const uint8_t *q = b + 16;
    const float d = sa_half_to_float(read_u16(b + 80));
    const float dmin = sa_half_to_float(read_u16(b + 82));
    for (int i = 0; i < 256; i++) {
        const int half = i / 128, shift = 2 * ((i % 128) / 32), l = i % 32;
        const uint8_t sc = scales[i / 16];
        const float dl = d * (float)(sc & 0xf), ml = dmin * (float)(sc >> 4);
        y[i] = dl * (float)((q[half * 32 + l] >> shift) & 3) - ml;
    }
}

/* Q3_K: 32 bytes of high bits (bit i / 32 of byte i % 32; a clear bit subtracts 4), 64 bytes of
 * low 2-bit quants laid out as in Q2_K, 12 bytes of sixteen 6-bit scales (low nibbles in bytes
 * 0-7, first the low halves then the high halves; high 2-bit pairs in bytes 8-11), fp16 d.
 * value = d * (scale - 32) * (low - (high ? 0 : 4)). */
static void dequant_q3_k(const uint8_t *b, float *y) {
    const uint8_t *hmask = b;
    const uint8_t *q = b + 32;
    const uint8_t *packed = b + 96;
    const float d = sa_half_to_float(read_u16(b + 108));
    float dl[16];
    for (int j = 0; j < 16; j++) {
        const int low = (packed[j % 8] >> (4 * (j / 8))) & 0xf;
        const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        dl[j] = d * (float)((low | (high << 4)) - 32);
    }
    for (int i = 0; i < 256; i++) {
        const int half = i / 128, shift = 2 * ((i % 128) / 32), l = i % 32;
        const int low = (q[half * 32 + l] >> shift) & 3;
        const int high = (hmask[l] >> (i / 32)) & 1;
        y[i] = dl[i / 16] * (float)(low - (high ? 0 : 4));
    }
}

/* IQ4_XS: fp16 d, 16 bits of high scale pairs, 4 bytes of low scale nibbles, then per 32-element
 * group 16 bytes of 4-bit indices into iq4_levels (low nibbles first, then high nibbles).
 * value = d * (scale - 32) * iq4_levels[index]. */
static void dequant_iq4_xs(const uint8_t *b, float *y) {
    const float d = sa_half_to_float(read_u16(b));
    const uint16_t scales_high = read_u16(b + 2);
    const uint8_t *scales_low = b + 4;
    const uint8_t *q = b + 8;
    for (int g = 0; g < 8; g++, q += 16, y += 32) {
        const int low = (scales_low[g / 2] >> (4 * (g % 2))) & 0xf;
        const int high = (scales_high >> (2 * g)) & 3;
        const float dl = d * (float)((low | (high << 4)) - 32);
        for (int j = 0; j < 16; j++) {
            y[j] = dl * (float)iq4_levels[q[j] & 0xf];
            y[j + 16] = dl * (float)iq4_levels[q[j] >> 4];
        }
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
        case SA_TYPE_Q5_0: {
            /* fp16 d, 32 fifth bits (bit j for element j), then nibbles as in Q4_0. */
            const float d = sa_half_to_float(read_u16(s));
            const uint32_t qh = read_u32(s + 2);
            const uint8_t *q = s + 6;
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)((int)((q[j] & 0xf) | (((qh >> j) & 1) << 4)) - 16);
                dst[j + 16] = d * (float)((int)((q[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
            }
            break;
        }
        case SA_TYPE_Q5_1: {
            const float d = sa_half_to_float(read_u16(s));
            const float m = sa_half_to_float(read_u16(s + 2));
            const uint32_t qh = read_u32(s + 4);
            const uint8_t *q = s + 8;
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)((q[j] & 0xf) | (((qh >> j) & 1) << 4)) + m;
                dst[j + 16] = d * (float)((q[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) + m;
            }
            break;
        }
        case SA_TYPE_IQ4_NL: {
            const float d = sa_half_to_float(read_u16(s));
            const uint8_t *q = s + 2;
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)iq4_levels[q[j] & 0xf];
                dst[j + 16] = d * (float)iq4_levels[q[j] >> 4];
            }
            break;
        }
        case SA_TYPE_Q2_K: dequant_q2_k(s, dst); break;
        case SA_TYPE_Q3_K: dequant_q3_k(s, dst); break;
        case SA_TYPE_Q4_K: dequant_q4_k(s, dst); break;
        case SA_TYPE_Q5_K: dequant_q5_k(s, dst); break;
        case SA_TYPE_Q6_K: dequant_q6_k(s, dst); break;
        case SA_TYPE_IQ4_XS: dequant_iq4_xs(s, dst); break;
        default: return -1;
        }
    }
    return 0;
}
