#ifndef SHIFTADD_CPU_H
#define SHIFTADD_CPU_H

#include "shiftadd_threadpool.h" /* status codes */

#ifdef __cplusplus
extern "C" {
#endif

/* Instruction-set levels the kernels can dispatch to, best last. */
typedef enum {
    SA_ISA_SCALAR = 0,
    SA_ISA_AVX2 = 1,  /* AVX2 and FMA */
    SA_ISA_AVX512 = 2 /* F, BW, VL, VBMI and VNNI */
} sa_isa;

/* Name of the environment variable that forces a lower level on every kernel. */
#define SA_KERNELS_ENV "SHIFTADD_KERNELS"

/* The level every kernel runs at: sa_cpu_hardware_isa(), lowered to the one SHIFTADD_KERNELS
 * names when sa_cpu_isa_request accepts it (a value it rejects leaves the hardware's level, so
 * programs check the request at start). A kernel's "best available" isa argument means this
 * level, and a level above it fails with SA_ERR_ISA. The variable is read at the first call of
 * any process; the result is cached. Thread-safe. */
sa_isa sa_cpu_best_isa(void);

/* The best level this CPU supports, whatever SHIFTADD_KERNELS says (probed once, then cached).
 * Thread-safe. */
sa_isa sa_cpu_hardware_isa(void);

/* The level a SHIFTADD_KERNELS value selects on a CPU whose best level is `hardware`: NULL or ""
 * (unset) selects `hardware`; "scalar", "avx2" or "avx512", spelled exactly so, selects that
 * level. Depends only on its arguments. Returns SA_OK and sets *level; SA_ERR_ISA for a level
 * above `hardware`; SA_ERR_ARGUMENT for any other value, a `hardware` outside sa_isa, or a NULL
 * level. *level is left alone on failure. */
int sa_isa_parse(const char *value, sa_isa hardware, sa_isa *level);

/* sa_isa_parse of this process's SHIFTADD_KERNELS against sa_cpu_hardware_isa(): what a program
 * calls at start to report a bad value. On SA_OK, *level equals sa_cpu_best_isa(). Reads the
 * environment on every call: do not call while another thread changes it. */
int sa_cpu_isa_request(sa_isa *level);

/* Short name of a level: "scalar", "avx2", "avx512". */
const char *sa_isa_name(sa_isa isa);

#ifdef __cplusplus
}
#endif

#endif
