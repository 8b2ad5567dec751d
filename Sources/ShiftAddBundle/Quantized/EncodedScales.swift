/// The `alpha` and `beta` of a `QuantizedLinear` as APoT codes (format in `APoTCode`): one base
/// exponent per row, one magnitude code per `alpha`, one signed code per `beta`. Decoding gives the
/// stored floats back bit for bit.
public struct EncodedScales: Sendable, Equatable {
    public let terms: Int
    /// Base exponent `E` of each row.
    public let rowBase: [Int8]
    /// `[row][group][plane]`, each below `2^APoTCode.alphaCodeBits(terms:)`.
    public let alphaCodes: [UInt16]
    /// `[row][group]`, magnitude code · 2 + sign bit, each below `2^APoTCode.betaCodeBits(terms:)`.
    public let betaCodes: [UInt16]

    /// Wraps codes read back from storage, checking their ranges.
    public init(terms: Int, rowBase: [Int8], alphaCodes: [UInt16], betaCodes: [UInt16]) throws {
        guard APoTCode.termsRange.contains(terms) else { throw QuantizationError.invalidArgument("APoT terms \(terms)") }
        let count = APoTCode.magnitudeCodeCount(terms: terms)
        guard !rowBase.isEmpty, alphaCodes.count % rowBase.count == 0, betaCodes.count % rowBase.count == 0 else {
            throw QuantizationError.invalidArgument("scale codes do not divide into \(rowBase.count) rows")
        }
        guard alphaCodes.allSatisfy({ Int($0) < count }), betaCodes.allSatisfy({ Int($0) >> 1 < count && $0 != 1 }) else {
            throw QuantizationError.invalidArgument("scale code out of range for \(terms) terms")
        }
        self.terms = terms
        self.rowBase = rowBase
        self.alphaCodes = alphaCodes
        self.betaCodes = betaCodes
    }

    /// Encodes the scales of `layer`; throws if one is not a sum of at most `terms` powers of two
    /// in the code's range (never the case for the quantizers' output with the same `terms`).
    public init(encoding layer: QuantizedLinear, terms: Int) throws {
        guard APoTCode.termsRange.contains(terms) else { throw QuantizationError.invalidArgument("APoT terms \(terms)") }
        let grid = APoTGrid.forTerms(terms)
        let alphaPerRow = layer.groupsPerRow * layer.bits
        let betaPerRow = layer.groupsPerRow
        var bases = [Int8](repeating: 0, count: layer.rows)
        var alphaCodes = [UInt16](repeating: 0, count: layer.alpha.count)
        var betaCodes = [UInt16](repeating: 0, count: layer.beta.count)
        for r in 0..<layer.rows {
            let alphas = layer.alpha[(r * alphaPerRow)..<((r + 1) * alphaPerRow)]
            let betas = layer.beta[(r * betaPerRow)..<((r + 1) * betaPerRow)]
            if let bad = alphas.first(where: { $0 < 0 }) { throw QuantizationError.scaleNotRepresentable(row: r, value: bad) }
            let largest = max(alphas.map(Swift.abs).max() ?? 0, betas.map(Swift.abs).max() ?? 0)
            guard largest > 0 else { continue }
            // The smallest base at which every scale of the row has a code (the quantizer's own
            // base is at most a few octaves above the largest scale).
            let candidates = largest.exponent...(largest.exponent + 40)
            guard let base = candidates.first(where: { base in
                alphas.allSatisfy { grid.magnitudeCode(of: $0, base: base) != nil }
                    && betas.allSatisfy { grid.magnitudeCode(of: $0, base: base) != nil }
            }), let stored = Int8(exactly: base) else {
                throw QuantizationError.scaleNotRepresentable(row: r, value: largest)
            }
            bases[r] = stored
            for (i, v) in alphas.enumerated() {
                alphaCodes[r * alphaPerRow + i] = UInt16(grid.magnitudeCode(of: v, base: base)!)
            }
            for (i, v) in betas.enumerated() {
                betaCodes[r * betaPerRow + i] = UInt16(grid.magnitudeCode(of: v, base: base)! << 1 | (v < 0 ? 1 : 0))
            }
        }
        self.terms = terms
        self.rowBase = bases
        self.alphaCodes = alphaCodes
        self.betaCodes = betaCodes
    }

    /// The `alpha` floats, `[row][group][plane]`.
    public func alphaValues() -> [Float] {
        let perRow = alphaCodes.count / rowBase.count
        return alphaCodes.enumerated().map { i, code in
            APoTCode.value(alphaCode: Int(code), terms: terms, base: Int(rowBase[i / perRow]))
        }
    }

    /// The `beta` floats, `[row][group]`.
    public func betaValues() -> [Float] {
        let perRow = betaCodes.count / rowBase.count
        return betaCodes.enumerated().map { i, code in
            APoTCode.signedValue(betaCode: Int(code), terms: terms, base: Int(rowBase[i / perRow]))
        }
    }

    /// Bits per weight spent on scales: per group `bits` alpha codes and one beta code (when
    /// `withBeta`), per row an 8-bit base exponent. Add `bits` for the planes.
    public static func scaleBitsPerWeight(bits: Int, groupSize: Int, cols: Int, terms: Int,
                                          withBeta: Bool = true) -> Double {
        let groups = (cols + groupSize - 1) / groupSize
        let perGroup = bits * APoTCode.alphaCodeBits(terms: terms) + (withBeta ? APoTCode.betaCodeBits(terms: terms) : 0)
        return Double(groups * perGroup + Int8.bitWidth) / Double(cols)
    }
}
