import CShiftKernels
import ShiftAddBundle

extension BundleProjection {
    /// The projection in the kernels' native form; the caller frees it with `sa_qlinear_free`.
    func makeKernel(isa: Int32 = -1) throws -> OpaquePointer {
        var err: Int32 = 0
        let kernel = planes.withUnsafeBufferPointer { planes in
            alpha.withUnsafeBufferPointer { alpha in
                beta.withUnsafeBufferPointer { beta in
                    var desc = sa_qlinear_desc(rows: Int32(rows), cols: Int32(cols), group_size: Int32(groupSize),
                                               bits: Int32(bits), planes: planes.baseAddress, alpha: alpha.baseAddress,
                                               beta: beta.baseAddress)
                    return sa_qlinear_create(&desc, isa, &err)
                }
            }
        }
        guard let kernel else { throw EngineError.kernel("\(name) (\(rows)×\(cols), \(bits) bits)", status: err) }
        return kernel
    }
}
