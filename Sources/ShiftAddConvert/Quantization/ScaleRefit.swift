import COpenBLAS
import CShiftKernels
import ShiftAddBundle

/// Output-error refinement of a quantized layer's scales with its bits fixed: per row, the
/// α and β of all groups jointly minimise (w − q)ᵀ H (w − q) (H the damped Hessian), which is
/// linear least squares in them; the solution is APoT-rounded and a negative α is folded into
/// its plane by flipping the group's bits. Cost per row: about cols² · (bits + 1) flops to form
/// the normal equations (batched through BLAS) and a solve of size groups · (bits + 1).
struct ScaleRefit {
    let rows: Int
    let cols: Int
    let options: QuantizationOptions
    /// Weights with dead inputs zeroed, row-major.
    let weights: [Float]
    /// Damped Hessian, row-major.
    let hessian: [Float]
    let bases: [Int]
    /// Whether β is refitted (else it stays 0).
    let withOffset: Bool

    private var unknowns: Int { options.bits + (withOffset ? 1 : 0) }

    /// (w − q)ᵀ H (w − q) of each row.
    func rowLosses(_ q: QuantizedLinear) -> [Double] {
        let delta = zip(weights, q.dequantized()).map { $0 - $1 }
        var product = [Float](repeating: 0, count: rows * cols)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(cols), 1,
                    delta, Int32(cols), hessian, Int32(cols), 0, &product, Int32(cols))
        return (0..<rows).map { r in
            var s: Double = 0
            for c in (r * cols)..<((r + 1) * cols) { s += Double(delta[c]) * Double(product[c]) }
            return s
        }
    }

    /// `q` with every row's scales refitted (rows whose normal equations are singular keep theirs).
    func refitted(_ q: QuantizedLinear) throws -> QuantizedLinear {
        let u = unknowns
        let groups = q.groupsPerRow
        let n = groups * u
        let grid = APoTGrid.forTerms(options.apotTerms)
        var alpha = q.alpha
        var beta = q.beta
        let chunk = 32
        var signs = [Float](repeating: 0, count: chunk * u * cols)
        var t = [Float](repeating: 0, count: chunk * u * cols)
        var gram = [Double](repeating: 0, count: chunk * n * n)
        var rhs = [Double](repeating: 0, count: chunk * n)
        for first in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - first)
            // Coefficients of each row's unknowns on every column.
            for i in 0..<count {
                for j in 0..<u {
                    let line = (i * u + j) * cols
                    for c in 0..<cols {
                        signs[line + c] = j == options.bits ? 1 : (q.bit(plane: j, row: first + i, col: c) ? 1 : -1)
                    }
                }
            }
            for g in 0..<groups {
                let start = g * options.groupSize
                let width = min(cols, start + options.groupSize) - start
                signs.withUnsafeBufferPointer { s in
                    hessian.withUnsafeBufferPointer { h in
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count * u), Int32(cols), Int32(width), 1,
                                    s.baseAddress! + start, Int32(cols), h.baseAddress! + start * cols, Int32(cols),
                                    0, &t, Int32(cols))
                    }
                }
                for i in 0..<count {
                    signs.withUnsafeBufferPointer { s in
                        t.withUnsafeBufferPointer { tt in
                            weights.withUnsafeBufferPointer { w in
                                gram.withUnsafeMutableBufferPointer { m in
                                    rhs.withUnsafeMutableBufferPointer { b in
                                        sa_refit_block(s.baseAddress! + i * u * cols, tt.baseAddress! + i * u * cols,
                                                       w.baseAddress! + (first + i) * cols, cols, options.groupSize, g, u,
                                                       m.baseAddress! + i * n * n, b.baseAddress! + i * n)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for i in 0..<count {
                let r = first + i
                guard let theta = solve(gram: &gram, rhs: &rhs, index: i, n: n) else { continue }
                for g in 0..<groups {
                    for p in 0..<options.bits {
                        alpha[(r * groups + g) * options.bits + p] = grid.round(theta[g * u + p], base: bases[r])
                    }
                    if withOffset { beta[r * groups + g] = grid.round(theta[g * u + options.bits], base: bases[r]) }
                }
            }
        }
        return try QuantizedLinear(rows: rows, cols: cols, groupSize: options.groupSize, bits: options.bits,
                                   planes: q.planes, alpha: alpha, beta: beta).foldingNegativeScales()
    }

    /// Solves the normal equations of row `index` of the chunk with a tiny ridge (planes that
    /// coincide on a group make them singular); nil if LAPACK still fails.
    private func solve(gram: inout [Double], rhs: inout [Double], index: Int, n: Int) -> [Double]? {
        var a = Array(gram[(index * n * n)..<((index + 1) * n * n)])
        var b = Array(rhs[(index * n)..<((index + 1) * n)])
        var trace: Double = 0
        for k in 0..<n { trace += a[k * n + k] }
        guard trace > 0 else { return nil }
        for k in 0..<n { a[k * n + k] += 1e-9 * trace / Double(n) }
        var size = Int32(n)
        var one: Int32 = 1
        var info: Int32 = 0
        let lower: CChar = 0x4C // "L"
        withUnsafePointer(to: lower) { uplo in
            dposv_(uplo, &size, &one, &a, &size, &b, &size, &info, 1)
        }
        return info == 0 ? b : nil
    }

    /// Row by row, the layer with the smaller loss (ties keep `current`).
    static func rowwiseBest(_ current: (QuantizedLinear, [Double]), _ candidate: (QuantizedLinear, [Double])) throws
        -> (QuantizedLinear, [Double]) {
        let (a, lossA) = current
        let (b, lossB) = candidate
        var planes = a.planes
        var alpha = a.alpha
        var beta = a.beta
        var losses = lossA
        let words = a.wordsPerRow
        let groups = a.groupsPerRow
        for r in 0..<a.rows where lossB[r] < lossA[r] {
            losses[r] = lossB[r]
            for p in 0..<a.bits {
                let line = (p * a.rows + r) * words
                planes.replaceSubrange(line..<(line + words), with: b.planes[line..<(line + words)])
            }
            let scales = (r * groups * a.bits)..<((r + 1) * groups * a.bits)
            alpha.replaceSubrange(scales, with: b.alpha[scales])
            let offsets = (r * groups)..<((r + 1) * groups)
            beta.replaceSubrange(offsets, with: b.beta[offsets])
        }
        let best = try QuantizedLinear(rows: a.rows, cols: a.cols, groupSize: a.groupSize, bits: a.bits,
                                       planes: planes, alpha: alpha, beta: beta)
        return (best, losses)
    }
}
