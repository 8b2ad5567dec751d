#ifndef SHIFTADD_CPU_H
#define SHIFTADD_CPU_H

#ifdef __cplusplus
extern "C" {
#endif

/* Instruction-set levels the kernels can dispatch to, best last. */
typedef enum {
    SA_ISA_SCALAR = 0,
    SA_ISA_AVX2 = 1,
    SA_ISA_AVX512 = 2 /* F, BW, VL, VBMI and VNNI */
} sa_isa;

/* The best level this CPU supports (probed once, then cached). */
sa_isa sa_cpu_best_isa(void);

/* Short name of a level: "scalar", "avx2", "avx512". */
const char *sa_isa_name(sa_isa isa);

#ifdef __cplusplus
}
#endif

#endif
