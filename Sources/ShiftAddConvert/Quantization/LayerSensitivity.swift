import ShiftAddBundle

/// Sensitivity of a layer to quantization (ShiftAddLLM's criterion), with U the upper Cholesky
/// factor of H⁻¹ and d = diag(U):
///
///     score = ‖ W / d ‖_F · std(W / d)²
///
/// where W / d divides every column c by d[c] and std is the population standard deviation of
/// all entries. Large weights on inputs the Hessian marks as important raise the score.
public enum LayerSensitivity {
    public static func score(weights: [Float], rows: Int, cols: Int, factor: HessianFactor) throws -> Double {
        try BinaryCodingQuantizer.checkShape(weights, rows: rows, cols: cols)
        guard factor.cols == cols else {
            throw QuantizationError.sizeMismatch(what: "Hessian columns", expected: cols, found: factor.cols)
        }
        var sum: Double = 0
        var sumSquares: Double = 0
        for r in 0..<rows {
            for c in 0..<cols {
                let v = Double(weights[r * cols + c]) / factor.upperDiagonal[c]
                sum += v
                sumSquares += v * v
            }
        }
        let n = Double(rows * cols)
        let mean = sum / n
        let variance = max(0, sumSquares / n - mean * mean)
        return sumSquares.squareRoot() * variance
    }
}
