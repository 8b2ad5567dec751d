#ifndef SHIFTADD_OPS_ISA_H
#define SHIFTADD_OPS_ISA_H

/* The instruction set an fp32 op of shiftadd_ops.h runs on (private). */

#include "shiftadd_cpu.h"
#include "shiftadd_threadpool.h"

/* `*isa` as the ops take it: an sa_isa level, or negative for sa_cpu_best_isa(). Replaces it
 * with the level to run and returns SA_OK, or SA_ERR_ARGUMENT above SA_ISA_AVX512, or SA_ERR_ISA
 * for a level above sa_cpu_best_isa(). */
static inline int sa_ops_isa(int *isa) {
    const int best = (int)sa_cpu_best_isa();
    if (*isa < 0) *isa = best;
    if (*isa > SA_ISA_AVX512) return SA_ERR_ARGUMENT;
    if (*isa > best) return SA_ERR_ISA;
    return SA_OK;
}

#endif
