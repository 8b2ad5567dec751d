import COpenBLAS
import ShiftAddBundle

/// Accumulates H = X Xᵀ / n over calibration inputs in Float64, where the columns of X are the
/// n input vectors (tokens) of a linear layer.
public struct HessianAccumulator: Sendable {
    public let cols: Int
    /// Input vectors seen so far (n).
    public private(set) var tokenCount: Int = 0
    /// Σ x xᵀ; only the upper triangle (row-major) is maintained.
    private var sum: [Double]

    public init(cols: Int) throws {
        guard cols > 0 else { throw QuantizationError.invalidArgument("Hessian of \(cols) columns") }
        self.cols = cols
        self.sum = [Double](repeating: 0, count: cols * cols)
    }

    /// Adds `tokens` input vectors, row-major `[tokens][cols]`.
    public mutating func add(_ batch: [Float], tokens: Int) throws {
        guard tokens >= 0, batch.count == tokens * cols else {
            throw QuantizationError.sizeMismatch(what: "calibration batch", expected: tokens * cols, found: batch.count)
        }
        guard tokens > 0 else { return }
        let promoted = batch.map(Double.init)
        let n = Int32(cols)
        sum.withUnsafeMutableBufferPointer { c in
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, Int32(tokens), 1, promoted, n, 1, c.baseAddress, n)
        }
        tokenCount += tokens
    }

    /// Adds the inputs another accumulator has seen.
    public mutating func merge(_ other: HessianAccumulator) throws {
        guard other.cols == cols else {
            throw QuantizationError.sizeMismatch(what: "Hessian columns", expected: cols, found: other.cols)
        }
        for i in sum.indices { sum[i] += other.sum[i] }
        tokenCount += other.tokenCount
    }

    /// H = Σ x xᵀ / n, full symmetric, row-major `[cols][cols]` (zero before any input).
    public func hessian() -> [Double] {
        var h = [Double](repeating: 0, count: cols * cols)
        let scale = tokenCount > 0 ? 1 / Double(tokenCount) : 0
        for i in 0..<cols {
            for j in i..<cols {
                let v = sum[i * cols + j] * scale
                h[i * cols + j] = v
                h[j * cols + i] = v
            }
        }
        return h
    }
}
