import CShiftKernels
import Foundation
import Testing

/// SHIFTADD_KERNELS: the values it takes, the errors for others, and that every kernel's "best
/// available" is the level it selects in this process.
@Suite struct KernelPathTests {
    static let levels = [SA_ISA_SCALAR, SA_ISA_AVX2, SA_ISA_AVX512]

    /// (status, level) of sa_isa_parse; the level stays the sentinel on failure.
    func parse(_ value: String?, hardware: sa_isa) -> (Int32, sa_isa) {
        var level = sa_isa(rawValue: 7)
        let status = sa_isa_parse(value, hardware, &level)
        return (status, level)
    }

    @Test(arguments: levels)
    func aNamedLevelIsTakenUpToTheHardwaresAndRefusedAbove(hardware: sa_isa) {
        for level in Self.levels {
            let name = String(cString: sa_isa_name(level))
            let (status, parsed) = parse(name, hardware: hardware)
            if level.rawValue <= hardware.rawValue {
                #expect(status == SA_OK.rawValue && parsed == level, "\(name)")
            } else {
                #expect(status == SA_ERR_ISA.rawValue && parsed.rawValue == 7, "\(name)")
            }
        }
    }

    @Test(arguments: levels)
    func unsetOrEmptySelectsTheHardwaresLevel(hardware: sa_isa) {
        #expect(parse(nil, hardware: hardware) == (SA_OK.rawValue, hardware))
        #expect(parse("", hardware: hardware) == (SA_OK.rawValue, hardware))
    }

    @Test func otherValuesAreRejected() {
        for value in ["bogus", "AVX2", "Scalar", " avx2", "avx2 ", "avx", "avx512f", "avx-512", "best", "0", "2"] {
            #expect(parse(value, hardware: SA_ISA_AVX512) == (SA_ERR_ARGUMENT.rawValue, sa_isa(rawValue: 7)), "\(value)")
        }
        #expect(parse("scalar", hardware: sa_isa(rawValue: 3)).0 == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_isa_parse("scalar", SA_ISA_AVX512, nil) == SA_ERR_ARGUMENT.rawValue)
    }

    /// The suite runs on the path this process's SHIFTADD_KERNELS selects: a bad value fails here,
    /// and the kernels' SA_ISA_BEST resolves to the selected level.
    @Test func theKernelsRunOnTheRequestedLevel() throws {
        let value = ProcessInfo.processInfo.environment[SA_KERNELS_ENV]
        var requested = sa_isa(rawValue: 7)
        #expect(sa_cpu_isa_request(&requested) == SA_OK.rawValue, "\(SA_KERNELS_ENV)=\(value ?? "")")
        #expect(sa_cpu_best_isa() == requested)
        #expect(sa_cpu_best_isa().rawValue <= sa_cpu_hardware_isa().rawValue)
        if (value ?? "").isEmpty { #expect(sa_cpu_best_isa() == sa_cpu_hardware_isa()) }
        #expect(KernelISA.best == Int32(sa_cpu_best_isa().rawValue))
        var index = 0
        let above = Int32(sa_cpu_best_isa().rawValue) + 1
        if above <= Int32(SA_ISA_AVX512.rawValue) {
            #expect(sa_logits_argmax([1, 2], 2, &index, above) == SA_ERR_ISA.rawValue)
        }
    }
}
