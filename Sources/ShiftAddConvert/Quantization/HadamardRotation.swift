import CShiftKernels
import ShiftAddBundle

/// The randomized block Walsh–Hadamard rotation R of `sa_rht` (see shiftadd_hadamard.h):
/// per block of `blockSize` entries, x ← H (s ⊙ x) / √blockSize, with the signs s drawn from
/// `seed`. Quantizing W Rᵀ (each weight row rotated) and rotating the activations keeps W x.
public struct HadamardRotation: Sendable, Equatable {
    public let length: Int
    public let blockSize: Int
    public let seed: UInt64
    /// ±1 per entry.
    public let signs: [Float]

    /// `blockSize` must be a power of two dividing `length`.
    public init(length: Int, blockSize: Int = 64, seed: UInt64) throws {
        guard length > 0, blockSize > 0, blockSize & (blockSize - 1) == 0, length % blockSize == 0 else {
            throw QuantizationError.invalidArgument("rotation block \(blockSize) does not fit length \(length)")
        }
        self.length = length
        self.blockSize = blockSize
        self.seed = seed
        var signs = [Float](repeating: 0, count: length)
        signs.withUnsafeMutableBufferPointer { sa_rht_signs(seed, $0.baseAddress, length) }
        self.signs = signs
    }

    /// Rotates each of the `values.count / length` consecutive vectors of `values`.
    public func apply(to values: inout [Float]) {
        transform(&values, inverse: false)
    }

    /// Undoes `apply(to:)` (Rᵀ).
    public func applyInverse(to values: inout [Float]) {
        transform(&values, inverse: true)
    }

    private func transform(_ values: inout [Float], inverse: Bool) {
        precondition(values.count % length == 0, "rotation of \(values.count) values in vectors of \(length)")
        let rows = values.count / length
        let status = values.withUnsafeMutableBufferPointer { x in
            signs.withUnsafeBufferPointer { s in
                inverse ? sa_rht_inverse(x.baseAddress, rows, length, blockSize, s.baseAddress)
                    : sa_rht(x.baseAddress, rows, length, blockSize, s.baseAddress)
            }
        }
        precondition(status == SA_RHT_OK, "sa_rht rejected checked arguments")
    }
}
