import ShiftAddBundle

/// Binary-coding quantization with APoT scales (ShiftAddLLM form, see `QuantizedLinear`).
///
/// Two objectives: the weight error ‖W − Ŵ‖² (this file), and the output error ‖WX − ŴX‖² with
/// error feedback through the inverse Hessian (`quantize(weights:rows:cols:factor:options:)`).
public enum BinaryCodingQuantizer {
    /// Quantizes row-major `weights` (`rows` × `cols`) minimising the weight error: every
    /// row-group is fitted with each kind of `options.fitKinds` and keeps the one with the least
    /// squared error; each weight takes its nearest value.
    public static func quantize(weights: [Float], rows: Int, cols: Int,
                                options: QuantizationOptions) throws -> QuantizedLinear {
        try options.validate()
        try checkShape(weights, rows: rows, cols: cols)
        let fitter = try GroupFitter(bits: options.bits, apotTerms: options.apotTerms,
                                     refinementRounds: options.refinementRounds)
        let kinds = options.fitKinds.members
        return try LayerWriter.build(rows: rows, cols: cols, groupSize: options.groupSize, bits: options.bits) { out in
            forEachRange(rows) { range in
                weights.withUnsafeBufferPointer { w in
                    for r in range {
                        let row = UnsafeBufferPointer(rebasing: w[(r * cols)..<((r + 1) * cols)])
                        let base = APoTGrid.rowBase(maxMagnitude: row.reduce(0) { max($0, abs($1)) })
                        for g in 0..<out.groups {
                            let start = g * options.groupSize
                            let group = UnsafeBufferPointer(rebasing: row[start..<min(cols, start + options.groupSize)])
                            var best = fitter.fit(group, base: base, kind: kinds[0])
                            for kind in kinds.dropFirst() {
                                let candidate = fitter.fit(group, base: base, kind: kind)
                                if candidate.1 < best.1 { best = candidate }
                            }
                            out.setScales(row: r, group: g, best.0)
                            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: group.count) { patterns in
                                best.0.levels(bits: options.bits).patterns(group, into: patterns.baseAddress!)
                                for i in 0..<group.count { out.setPattern(row: r, col: start + i, Int(patterns[i])) }
                            }
                        }
                    }
                }
            }
        }
    }

    static func checkShape(_ weights: [Float], rows: Int, cols: Int) throws {
        guard rows > 0, cols > 0 else { throw QuantizationError.invalidArgument("empty matrix \(rows)×\(cols)") }
        guard weights.count == rows * cols else {
            throw QuantizationError.sizeMismatch(what: "weights", expected: rows * cols, found: weights.count)
        }
        guard weights.allSatisfy(\.isFinite) else { throw QuantizationError.invalidArgument("non-finite weight") }
    }
}
