import CShiftKernels
import Glibc

/// Where the kernel engine's forward passes spend their time, summed over every pass it is given
/// to. Passing none to `QuantizedModel.forward` reads no clock at all, so serving pays nothing.
public final class EngineProfile {
    public enum Part: Int, CaseIterable, Sendable {
        /// Input rotation and lookup-table builds.
        case tables
        /// Table lookups over the binary planes (the projections proper).
        case lookups
        /// Rotary embedding, cache writes and attention over the cache.
        case attention
        /// Final norm and the fp16 output head.
        case head

        public var name: String {
            switch self {
            case .tables: "tables"
            case .lookups: "lookups"
            case .attention: "attention"
            case .head: "head"
            }
        }
    }

    private var partSeconds = [Double](repeating: 0, count: Part.allCases.count)
    /// Wall time inside `forward`, parts included.
    public private(set) var forwardSeconds = 0.0
    public private(set) var forwards = 0

    public init() {}

    public func seconds(_ part: Part) -> Double { partSeconds[part.rawValue] }

    public func reset() {
        partSeconds = [Double](repeating: 0, count: Part.allCases.count)
        forwardSeconds = 0
        forwards = 0
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    func add(_ part: Part, seconds: Double) {
        partSeconds[part.rawValue] += seconds
    }

    func addForward(seconds: Double) {
        forwardSeconds += seconds
        forwards += 1
    }
}

extension QuantizedModel {
    /// Bytes of the projections' native form: what one token's pass over every layer reads.
    public var projectionBytes: Int { blocks.reduce(0) { $0 + $1.nativeBytes } }

    /// The instruction set the projections run on.
    public var instructionSet: String {
        guard let any = blocks.first?.projections.values.first else { return "none" }
        return String(cString: sa_isa_name(sa_isa(rawValue: UInt32(sa_qlinear_isa(any)))))
    }
}
