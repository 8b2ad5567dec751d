#ifndef SHIFTADD_THREAD_SCRATCH_H
#define SHIFTADD_THREAD_SCRATCH_H

/* Scratch memory of kernel tasks (private): one buffer per slot and thread, kept between calls
 * and grown on demand, freed when the thread ends. So a decoding step allocates nothing once the
 * buffers have reached their size. A task owns its thread's slots until it returns. */

#include <stddef.h>

typedef enum {
    SA_SCRATCH_SCORES = 0, /* attention scores */
    SA_SCRATCH_HEAD_TOKENS, /* int8 head: the quantized tokens of a call (used by the caller only) */
    SA_SCRATCH_LUT_PADDED, /* table build: one zero-padded group of activations */
    SA_SCRATCH_LUT_SUMS,   /* table build: float entries of one group */
    SA_SCRATCH_SLOTS
} sa_scratch_slot;

/* At least `bytes` bytes, 64-byte aligned, or NULL when out of memory. The contents are not kept
 * when the buffer grows. */
void *sa_thread_scratch(sa_scratch_slot slot, size_t bytes);

#endif
