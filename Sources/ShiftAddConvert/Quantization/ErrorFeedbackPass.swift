import COpenBLAS
import CShiftKernels
import ShiftAddBundle

/// One error-feedback sweep over a layer's columns (see
/// `BinaryCodingQuantizer.quantize(weights:rows:cols:factor:options:)`).
struct ErrorFeedbackPass: Sendable {
    let rows: Int
    let cols: Int
    let options: QuantizationOptions
    /// U, the upper Cholesky factor of H⁻¹, row-major.
    let upper: [Float]
    /// 0 for dead inputs.
    let live: [UInt8]
    let fitter: GroupFitter
    let kinds: [GroupFitKinds]

    init(rows: Int, cols: Int, options: QuantizationOptions, upper: [Float], live: [UInt8]) throws {
        self.rows = rows
        self.cols = cols
        self.options = options
        self.upper = upper
        self.live = live
        self.fitter = try GroupFitter(bits: options.bits, apotTerms: options.apotTerms,
                                      refinementRounds: options.refinementRounds)
        self.kinds = options.fitKinds.members
    }

    /// Quantizes `weights` (overwritten with the error-updated weights) into `out`.
    /// With `fixedScales`, every group keeps that layer's scales instead of fitting its own.
    func run(weights: inout [Float], bases: [Int], fixedScales: QuantizedLinear?, out: LayerWriter) {
        let blockColumns = options.blockColumns
        var errors = [Float](repeating: 0, count: rows * blockColumns)
        weights.withUnsafeMutableBufferPointer { wBuffer in
            errors.withUnsafeMutableBufferPointer { eBuffer in
                let w = SharedPointer(base: wBuffer.baseAddress!)
                let e = SharedPointer(base: eBuffer.baseAddress!)
                for start in stride(from: 0, to: cols, by: blockColumns) {
                    let end = min(cols, start + blockColumns)
                    // Rows are independent inside a block.
                    forEachRange(rows) { range in
                        upper.withUnsafeBufferPointer { u in
                            live.withUnsafeBufferPointer { live in
                                for r in range {
                                    let row = RowBlock(index: r, weights: w.base + r * cols, errors: e.base + r * blockColumns,
                                                       base: bases[r], columns: start..<end)
                                    quantize(row, u: u.baseAddress!, live: live.baseAddress!, fixedScales: fixedScales, out: out)
                                }
                            }
                        }
                    }
                    guard end < cols else { continue }
                    // Lazy update of the later columns: W[:, end...] -= E · U[block, end...].
                    upper.withUnsafeBufferPointer { u in
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(cols - end),
                                    Int32(end - start), -1, e.base, Int32(blockColumns),
                                    u.baseAddress! + start * cols + end, Int32(cols), 1, w.base + end, Int32(cols))
                    }
                }
            }
        }
    }

    /// One row's part of one block.
    private struct RowBlock {
        let index: Int
        /// The whole row of error-updated weights.
        let weights: UnsafeMutablePointer<Float>
        /// Scaled errors of the block's columns.
        let errors: UnsafeMutablePointer<Float>
        /// APoT base exponent of the row.
        let base: Int
        let columns: Range<Int>
    }

    /// Fits each group of the block when reached, binarizes its columns with feedback inside the
    /// block, and records the scaled errors for the lazy update.
    private func quantize(_ row: RowBlock, u: UnsafePointer<Float>, live: UnsafePointer<UInt8>,
                          fixedScales: QuantizedLinear?, out: LayerWriter) {
        let groupSize = options.groupSize
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: groupSize) { patterns in
            for groupStart in stride(from: row.columns.lowerBound, to: row.columns.upperBound, by: groupSize) {
                let group = groupStart..<min(row.columns.upperBound, groupStart + groupSize)
                let scales = fixedScales.map { GroupScales(layer: $0, row: row.index, group: groupStart / groupSize) }
                    ?? fittedScales(row, group: group, u: u, live: live)
                out.setScales(row: row.index, group: groupStart / groupSize, scales)
                _ = withUnsafePointer(to: scales.levels(bits: options.bits).table) { levels in
                    sa_feedback_columns(levels, row.weights, group.lowerBound, group.upperBound, row.columns.upperBound,
                                        u, cols, live, patterns.baseAddress,
                                        row.errors + (group.lowerBound - row.columns.lowerBound))
                }
                for c in group { out.setPattern(row: row.index, col: c, Int(patterns[c - group.lowerBound])) }
            }
        }
    }

    /// The candidate scales of each fit kind for the group's current (error-updated) live
    /// weights; with several, the one with the least output error over the group, simulated
    /// with in-group feedback (its exact share of the output error).
    private func fittedScales(_ row: RowBlock, group: Range<Int>, u: UnsafePointer<Float>,
                              live: UnsafePointer<UInt8>) -> GroupScales {
        let n = group.count
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * n) { buffer in
            let values = buffer.baseAddress!
            let simulation = values + n
            let simulatedErrors = values + 2 * n
            var liveCount = 0
            for c in group where live[c] != 0 {
                values[liveCount] = row.weights[c]
                liveCount += 1
            }
            let fitValues = UnsafeBufferPointer(start: values, count: liveCount)
            let first = fitter.fit(fitValues, base: row.base, kind: kinds[0]).0
            guard kinds.count > 1 else { return first }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { patterns in
                func loss(_ scales: GroupScales) -> Double {
                    simulation.update(from: row.weights + group.lowerBound, count: n)
                    return withUnsafePointer(to: scales.levels(bits: options.bits).table) { levels in
                        sa_feedback_columns(levels, simulation, 0, n, n, u + group.lowerBound * cols + group.lowerBound,
                                            cols, live + group.lowerBound, patterns.baseAddress, simulatedErrors)
                    }
                }
                var best = (first, loss(first))
                for kind in kinds.dropFirst() {
                    let candidate = fitter.fit(fitValues, base: row.base, kind: kind).0
                    let candidateLoss = loss(candidate)
                    if candidateLoss < best.1 { best = (candidate, candidateLoss) }
                }
                return best.0
            }
        }
    }
}
