import CShiftKernels
import ShiftAddBundle

/// What error feedback needs from a layer's input Hessian H = X Xᵀ / n: the damped H and the
/// upper Cholesky factor U of H⁻¹ (H⁻¹ = Uᵀ U). Layers fed the same input (q/k/v, gate/up) can
/// share one factor.
///
/// As GPTQ does: a dead input (H[c][c] = 0, the input is always zero) gets H[c][c] = 1 and its
/// weights are quantized as zeros; then `damping · mean(diag H)` is added to the diagonal. If the
/// Cholesky factorisation fails, the damping is raised tenfold, up to three times.
public struct HessianFactor: Sendable {
    public let cols: Int
    /// Inputs whose Hessian diagonal was zero.
    public let deadColumns: [Int]
    /// Relative damping finally used.
    public let damping: Double
    /// The damped Hessian, full symmetric, row-major.
    public let dampedHessian: [Double]
    /// U, row-major upper triangular (zeros below the diagonal), in Float32 for the update loops.
    public let upper: [Float]
    /// diag(U), exact.
    public let upperDiagonal: [Double]

    public init(hessian: [Double], cols: Int, damping: Double = 0.01) throws {
        guard cols > 0, hessian.count == cols * cols else {
            throw QuantizationError.sizeMismatch(what: "Hessian", expected: cols * cols, found: hessian.count)
        }
        guard damping >= 0, damping.isFinite, hessian.allSatisfy(\.isFinite) else {
            throw QuantizationError.invalidArgument("non-finite Hessian or damping")
        }
        var h = hessian
        var dead: [Int] = []
        for c in 0..<cols where h[c * cols + c] == 0 {
            dead.append(c)
            h[c * cols + c] = 1
        }
        var meanDiagonal: Double = 0
        for c in 0..<cols { meanDiagonal += h[c * cols + c] }
        meanDiagonal /= Double(cols)

        var relative = damping
        for attempt in 0...3 {
            if attempt > 0 { relative = max(relative, 1e-6) * 10 }
            var damped = h
            for c in 0..<cols { damped[c * cols + c] += relative * meanDiagonal }
            guard let u = Self.inverseCholeskyUpper(damped, cols: cols) else { continue }
            self.cols = cols
            self.deadColumns = dead
            self.damping = relative
            self.dampedHessian = damped
            self.upperDiagonal = (0..<cols).map { u[$0 * cols + $0] }
            self.upper = u.map(Float.init)
            return
        }
        throw QuantizationError.hessianNotPositiveDefinite(columns: cols)
    }

    /// U with H⁻¹ = Uᵀ U, row-major, or nil if H is not positive definite.
    ///
    /// LAPACK works column-major; H and H⁻¹ are symmetric, so the same buffer serves both views.
    /// Factoring H⁻¹ = L Lᵀ with L lower in column-major order leaves, read row-major, Lᵀ = U.
    private static func inverseCholeskyUpper(_ h: [Double], cols: Int) -> [Double]? {
        var a = h
        var n = Int32(cols)
        var info: Int32 = 0
        let lower: CChar = 0x4C // "L"
        withUnsafePointer(to: lower) { uplo in
            a.withUnsafeMutableBufferPointer { buf in
                dpotrf_(uplo, &n, buf.baseAddress, &n, &info, 1)
                if info == 0 { dpotri_(uplo, &n, buf.baseAddress, &n, &info, 1) }
                if info == 0 { dpotrf_(uplo, &n, buf.baseAddress, &n, &info, 1) }
            }
        }
        guard info == 0 else { return nil }
        // Row-major view: the factor is the upper triangle; clear the stale lower one.
        for i in 0..<cols {
            for j in 0..<i { a[i * cols + j] = 0 }
        }
        return a
    }
}
