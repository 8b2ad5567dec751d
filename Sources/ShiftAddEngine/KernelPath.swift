import CShiftKernels
import Foundation

/// The instruction set every kernel runs on: the best this CPU has, or the lower one that
/// `SHIFTADD_KERNELS` (scalar, avx2 or avx512) forces. The kernels give the same bits on each.
public struct KernelPath: Sendable, Equatable, CustomStringConvertible {
    public static let environmentName = SA_KERNELS_ENV
    /// The values `SHIFTADD_KERNELS` takes, lowest first.
    public static let names = [SA_ISA_SCALAR, SA_ISA_AVX2, SA_ISA_AVX512].map(name)

    /// The instruction set the kernels run on: "scalar", "avx2" or "avx512".
    public let name: String
    /// The best instruction set this CPU supports.
    public let hardware: String
    /// Whether `SHIFTADD_KERNELS` chose `name` rather than leaving the CPU's best.
    public let forced: Bool

    public var description: String {
        forced ? "\(name) (\(Self.environmentName); this CPU supports up to \(hardware))" : name
    }

    /// This process's path. Throws for a `SHIFTADD_KERNELS` value that is not one of `names` or
    /// names more than this CPU has; programs call it at start, before any kernel runs.
    public static func current() throws(KernelPathError) -> KernelPath {
        try resolve(ProcessInfo.processInfo.environment[environmentName], hardware: sa_cpu_hardware_isa())
    }

    /// The path `value` (nil or empty: unset) selects on a CPU whose best level is `hardware`.
    public static func resolve(_ value: String?, hardware: sa_isa) throws(KernelPathError) -> KernelPath {
        var level = hardware
        let status = sa_isa_parse(value, hardware, &level)
        let setting = "\(environmentName)=\(value ?? "")"
        let supported = list(Array(names.prefix(Int(hardware.rawValue) + 1)))
        switch status {
        case SA_OK.rawValue:
            return KernelPath(name: name(level), hardware: name(hardware), forced: !(value ?? "").isEmpty)
        case SA_ERR_ISA.rawValue:
            throw KernelPathError(description: "\(setting): this CPU lacks \(value ?? ""); it supports \(supported)")
        default:
            throw KernelPathError(description: "\(setting): expected \(list(names, or: true)) (or unset); this CPU supports \(supported)")
        }
    }

    /// "a", "a and b", "a, b and c" (or "or").
    private static func list(_ items: [String], or: Bool = false) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + (or ? " or " : " and ") + items.last!
    }

    private static func name(_ level: sa_isa) -> String { String(cString: sa_isa_name(level)) }
}

/// A `SHIFTADD_KERNELS` value that cannot be honoured, with a message naming it.
public struct KernelPathError: Error, CustomStringConvertible {
    public let description: String
}
