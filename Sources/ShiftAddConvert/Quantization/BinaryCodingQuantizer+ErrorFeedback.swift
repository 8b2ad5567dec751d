import ShiftAddBundle

extension BinaryCodingQuantizer {
    /// Quantizes row-major `weights` (`rows` × `cols`) minimising the output error
    /// ‖(W − Ŵ) X‖² through GPTQ-style error feedback, with `factor` built from the layer's
    /// calibration inputs.
    ///
    /// Columns are processed in order, in blocks of whole groups (`options.blockSize` columns,
    /// lazy updates of the columns after the block). At the start of each group the candidate
    /// scales are fitted to the group's error-updated weights (each kind of `options.fitKinds`);
    /// the candidate kept is the one with the least output error over the group, simulated with
    /// the in-group feedback. Then each column takes, per row, the value nearest to its updated
    /// weight, and the scaled error (w − q) / U[c][c] is fed to the remaining columns through U.
    /// Since W − Ŵ = E U with E those scaled errors and U H Uᵀ = I, the output error over the
    /// damped Hessian is exactly ‖E‖², the quantity each choice minimises greedily.
    public static func quantize(weights: [Float], rows: Int, cols: Int, factor: HessianFactor,
                                options: QuantizationOptions) throws -> QuantizedLinear {
        try options.validate()
        try checkShape(weights, rows: rows, cols: cols)
        guard factor.cols == cols else {
            throw QuantizationError.sizeMismatch(what: "Hessian columns", expected: cols, found: factor.cols)
        }
        var w = weights
        var live = [UInt8](repeating: 1, count: cols)
        for c in factor.deadColumns {
            live[c] = 0
            for r in 0..<rows { w[r * cols + c] = 0 }
        }
        let bases = (0..<rows).map { r in
            APoTGrid.rowBase(maxMagnitude: w[(r * cols)..<((r + 1) * cols)].reduce(0) { max($0, abs($1)) })
        }
        let pass = try ErrorFeedbackPass(rows: rows, cols: cols, options: options, upper: factor.upper, live: live)
        func sweep(_ fixed: QuantizedLinear?) throws -> QuantizedLinear {
            var work = w
            return try LayerWriter.build(rows: rows, cols: cols, groupSize: options.groupSize, bits: options.bits) { out in
                pass.run(weights: &work, bases: bases, fixedScales: fixed, out: out)
            }
        }
        let first = try sweep(nil)
        guard options.scaleRefitPasses > 0 else { return first }

        let refit = ScaleRefit(rows: rows, cols: cols, options: options, weights: w,
                               hessian: factor.dampedHessian.map(Float.init), bases: bases,
                               withOffset: !options.fitKinds.isDisjoint(with: [.binaryCodingWithOffset, .rangeGrid]))
        var best = (first, refit.rowLosses(first))
        for _ in 0..<options.scaleRefitPasses {
            let refitted = try refit.refitted(best.0)
            best = try ScaleRefit.rowwiseBest(best, (refitted, refit.rowLosses(refitted)))
            let rebinarized = try sweep(best.0)
            best = try ScaleRefit.rowwiseBest(best, (rebinarized, refit.rowLosses(rebinarized)))
        }
        return best.0
    }
}
