#include <stdlib.h>
#include <string.h>

#include "shiftadd_cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static sa_isa probe(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
        __builtin_cpu_supports("avx512vnni")) {
        return SA_ISA_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SA_ISA_AVX2;
    return SA_ISA_SCALAR;
}
#else
static sa_isa probe(void) { return SA_ISA_SCALAR; }
#endif

/* The value `compute()` returns, computed by the first caller; racing first callers compute the
 * same value, so whichever store lands is right. */
static sa_isa cached(int *slot, sa_isa (*compute)(void)) {
    int v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (v < 0) {
        v = (int)compute();
        __atomic_store_n(slot, v, __ATOMIC_RELEASE);
    }
    return (sa_isa)v;
}

sa_isa sa_cpu_hardware_isa(void) {
    static int slot = -1;
    return cached(&slot, probe);
}

/* A bad request leaves the hardware's level: programs report it at start (sa_cpu_isa_request). */
static sa_isa requested_or_hardware(void) {
    sa_isa level;
    return sa_cpu_isa_request(&level) == SA_OK ? level : sa_cpu_hardware_isa();
}

sa_isa sa_cpu_best_isa(void) {
    static int slot = -1;
    return cached(&slot, requested_or_hardware);
}

int sa_isa_parse(const char *value, sa_isa hardware, sa_isa *level) {
    if (!level || (int)hardware < SA_ISA_SCALAR || (int)hardware > SA_ISA_AVX512) return SA_ERR_ARGUMENT;
    if (!value || !*value) {
        *level = hardware;
        return SA_OK;
    }
    for (int l = SA_ISA_SCALAR; l <= SA_ISA_AVX512; l++) {
        if (strcmp(value, sa_isa_name((sa_isa)l)) != 0) continue;
        if (l > (int)hardware) return SA_ERR_ISA;
        *level = (sa_isa)l;
        return SA_OK;
    }
    return SA_ERR_ARGUMENT;
}

int sa_cpu_isa_request(sa_isa *level) { return sa_isa_parse(getenv(SA_KERNELS_ENV), sa_cpu_hardware_isa(), level); }

const char *sa_isa_name(sa_isa isa) {
    switch (isa) {
    case SA_ISA_AVX512: return "avx512";
    case SA_ISA_AVX2: return "avx2";
    default: return "scalar";
    }
}
