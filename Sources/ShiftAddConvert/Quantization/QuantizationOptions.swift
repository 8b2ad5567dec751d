import ShiftAddBundle

/// Settings of the binary-coding quantizers.
public struct QuantizationOptions: Sendable, Equatable {
    /// Bit planes per weight, 1...4.
    public var bits: Int
    /// Inputs per scale group, 32...256 (the last group of a row may be shorter).
    public var groupSize: Int
    /// Signed powers of two per scale, 1...4 (see `APoTCode`).
    public var apotTerms: Int
    /// Alternating least-squares rounds per group fit (stops early at a fixed point).
    public var refinementRounds: Int
    /// Fits tried for every row-group; the one with the least error is kept.
    public var fitKinds: GroupFitKinds
    /// Error feedback only: columns per lazy update block (rounded to whole groups).
    public var blockSize: Int
    /// Error feedback only: passes that refit all scales of a row jointly by least squares on the
    /// output error with the bits fixed (`ScaleRefit`), then rebinarize with error feedback
    /// against the refitted scales; each row keeps the state with the lowest output error seen.
    /// Costs about 2–3× the quantization time per pass; gains are largest at 2 bits.
    public var scaleRefitPasses: Int

    public init(bits: Int = 3, groupSize: Int = 64, apotTerms: Int = 3, refinementRounds: Int = 20,
                fitKinds: GroupFitKinds = .all, blockSize: Int = 128,
                scaleRefitPasses: Int = 0) {
        self.bits = bits
        self.groupSize = groupSize
        self.apotTerms = apotTerms
        self.refinementRounds = refinementRounds
        self.fitKinds = fitKinds
        self.blockSize = blockSize
        self.scaleRefitPasses = scaleRefitPasses
    }

    func validate() throws {
        guard QuantizedLinear.bitsRange.contains(bits) else { throw QuantizationError.invalidArgument("bits \(bits) outside 1...4") }
        guard QuantizedLinear.groupSizeRange.contains(groupSize) else {
            throw QuantizationError.invalidArgument("group size \(groupSize) outside 32...256")
        }
        guard APoTCode.termsRange.contains(apotTerms) else { throw QuantizationError.invalidArgument("APoT terms \(apotTerms) outside 1...4") }
        guard refinementRounds >= 0, scaleRefitPasses >= 0 else { throw QuantizationError.invalidArgument("negative round count") }
        guard !fitKinds.members.isEmpty else { throw QuantizationError.invalidArgument("no group fit kind") }
        guard blockSize > 0 else { throw QuantizationError.invalidArgument("block size \(blockSize)") }
    }

    /// Columns per error-feedback block: a whole number of groups, about `blockSize` columns.
    var blockColumns: Int { groupSize * max(1, (blockSize + groupSize / 2) / groupSize) }
}
