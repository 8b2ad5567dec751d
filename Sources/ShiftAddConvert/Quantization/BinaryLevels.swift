import CShiftKernels
import ShiftAddBundle

/// The 2^bits values β + Σᵢ ±αᵢ of one row-group, sorted, with the bit pattern of each (bit i set
/// means +αᵢ), for picking the nearest value of a weight (`sa_levels` in shiftadd_linalg.h).
struct BinaryLevels {
    private(set) var table = sa_levels()

    init(alpha: SIMD4<Float>, beta: Float, bits: Int) {
        withUnsafeBytes(of: alpha) { a in
            sa_levels_init(&table, a.baseAddress!.assumingMemoryBound(to: Float.self), beta, Int32(bits))
        }
    }

    /// The value nearest to `x` (a tie goes to the lower value).
    func nearestValue(_ x: Float) -> Float {
        withUnsafePointer(to: table) { t in
            let j = Int(sa_levels_nearest(t, x))
            return withUnsafeBytes(of: t.pointee.values) { $0.load(fromByteOffset: j * MemoryLayout<Float>.stride, as: Float.self) }
        }
    }

    /// Patterns of the values nearest to `x`.
    func patterns(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutablePointer<UInt8>) {
        withUnsafePointer(to: table) { sa_levels_patterns($0, x.baseAddress, x.count, out) }
    }
}
