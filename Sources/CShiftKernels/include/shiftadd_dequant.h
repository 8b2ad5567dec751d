#ifndef SHIFTADD_DEQUANT_H
#define SHIFTADD_DEQUANT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Storage types of checkpoint tensors, numbered as GGUF numbers them. */
typedef enum {
    SA_TYPE_F32 = 0,
    SA_TYPE_F16 = 1,
    SA_TYPE_Q4_0 = 2,
    SA_TYPE_Q4_1 = 3,
    SA_TYPE_Q5_0 = 6,
    SA_TYPE_Q5_1 = 7,
    SA_TYPE_Q8_0 = 8,
    SA_TYPE_Q2_K = 10,
    SA_TYPE_Q3_K = 11,
    SA_TYPE_Q4_K = 12,
    SA_TYPE_Q5_K = 13,
    SA_TYPE_Q6_K = 14,
    SA_TYPE_IQ4_NL = 20,
    SA_TYPE_IQ4_XS = 23,
    SA_TYPE_BF16 = 30
} sa_tensor_type;

/* Elements per block and bytes per block of a type; 0 for a type this library cannot decode. */
size_t sa_type_block_elements(int type);
size_t sa_type_block_bytes(int type);

/* Decodes `count` elements of `type` from `src` into `dst`.
 * `count` must be a multiple of the type's block size and `src` must hold
 * count / block_elements * block_bytes bytes; the caller owns both buffers.
 * Every block type decodes as value = scale * quant (minus or plus a block minimum where the type
 * has one), with the scale, quant and level formulas of ggml's reference decoder, evaluated in
 * float32 in the reference's order without fused multiply-adds: results equal the `gguf` Python
 * package's bit for bit.
 * Keeps no state: safe to call from any number of threads at once.
 * Returns 0, or -1 for an unknown type or a count that is not a whole number of blocks. */
int sa_dequantize(int type, const void *src, float *dst, size_t count);

/* IEEE half / bfloat16 conversions used by the readers and the bundle code. */
float sa_half_to_float(uint16_t h);
uint16_t sa_float_to_half(float f);

#ifdef __cplusplus
}
#endif

#endif
