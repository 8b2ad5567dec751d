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

sa_isa sa_cpu_best_isa(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    if (v < 0) {
        v = (int)probe();
        __atomic_store_n(&cached, v, __ATOMIC_RELEASE);
    }
    return (sa_isa)v;
}

const char *sa_isa_name(sa_isa isa) {
    switch (isa) {
    case SA_ISA_AVX512: return "avx512";
    case SA_ISA_AVX2: return "avx2";
    default: return "scalar";
    }
}
