/// A linear layer in binary-coding form: every weight is a per-group offset plus a sum of `bits`
/// signed scales, one per bit plane.
///
/// Canonical layout (shared by the converter, the bundle and the kernels):
/// - `rows` outputs × `cols` inputs; groups of `groupSize` consecutive inputs per row,
///   `groupsPerRow = ceil(cols / groupSize)`, the last group may be shorter.
/// - `planes`: `[plane][row][word]`, `wordsPerRow = ceil(cols / 64)`; bit `c % 64` of word `c / 64`
///   is 1 for +1 and 0 for −1; padding bits beyond `cols` are 0.
/// - `alpha`: `[row][group][plane]`, each a sum of a few signed powers of two (see `APoTCode`).
/// - `beta`: `[row][group]`, zero when the offset is unused.
/// - value(r, c) = beta[r][g] + Σ_p alpha[r][g][p] · (bit ? +1 : −1), with g = c / groupSize.
public struct QuantizedLinear: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public let groupSize: Int
    public let bits: Int
    public let planes: [UInt64]
    public let alpha: [Float]
    public let beta: [Float]

    public static let groupSizeRange = 32...256
    public static let bitsRange = 1...4

    public var wordsPerRow: Int { (cols + 63) / 64 }
    public var groupsPerRow: Int { (cols + groupSize - 1) / groupSize }

    /// Validates the sizes, the ranges and the zero padding bits.
    public init(rows: Int, cols: Int, groupSize: Int, bits: Int,
                planes: [UInt64], alpha: [Float], beta: [Float]) throws {
        guard rows > 0, cols > 0 else { throw QuantizationError.invalidArgument("empty matrix \(rows)×\(cols)") }
        guard Self.groupSizeRange.contains(groupSize) else {
            throw QuantizationError.invalidArgument("group size \(groupSize) outside \(Self.groupSizeRange)")
        }
        guard Self.bitsRange.contains(bits) else {
            throw QuantizationError.invalidArgument("bits \(bits) outside \(Self.bitsRange)")
        }
        let words = (cols + 63) / 64
        let groups = (cols + groupSize - 1) / groupSize
        guard planes.count == bits * rows * words else {
            throw QuantizationError.sizeMismatch(what: "planes", expected: bits * rows * words, found: planes.count)
        }
        guard alpha.count == rows * groups * bits else {
            throw QuantizationError.sizeMismatch(what: "alpha", expected: rows * groups * bits, found: alpha.count)
        }
        guard beta.count == rows * groups else {
            throw QuantizationError.sizeMismatch(what: "beta", expected: rows * groups, found: beta.count)
        }
        if cols % 64 != 0 {
            let padding = ~UInt64(0) << UInt64(cols % 64)
            for line in 0..<(bits * rows) where planes[line * words + words - 1] & padding != 0 {
                throw QuantizationError.invalidArgument("padding bits set in plane line \(line)")
            }
        }
        guard alpha.allSatisfy(\.isFinite), beta.allSatisfy(\.isFinite) else {
            throw QuantizationError.invalidArgument("non-finite scale")
        }
        self.rows = rows
        self.cols = cols
        self.groupSize = groupSize
        self.bits = bits
        self.planes = planes
        self.alpha = alpha
        self.beta = beta
    }

    /// Whether plane `plane` holds +1 at (`row`, `col`).
    public func bit(plane: Int, row: Int, col: Int) -> Bool {
        let word = planes[(plane * rows + row) * wordsPerRow + col / 64]
        return (word >> UInt64(col % 64)) & 1 == 1
    }

    /// The same weights with every negative α stored as its magnitude and the group's bits of that
    /// plane flipped (−α·b = α·(−b)), as `EncodedScales` requires.
    public func foldingNegativeScales() throws -> QuantizedLinear {
        var planes = planes
        let words = wordsPerRow, groups = groupsPerRow
        for (i, a) in alpha.enumerated() where a < 0 {
            let p = i % bits, rowGroup = i / bits
            let r = rowGroup / groups, g = rowGroup % groups
            for c in (g * groupSize)..<min(cols, (g + 1) * groupSize) {
                planes[(p * rows + r) * words + c / 64] ^= UInt64(1) << UInt64(c % 64)
            }
        }
        return try QuantizedLinear(rows: rows, cols: cols, groupSize: groupSize, bits: bits, planes: planes,
                                   alpha: alpha.map(Swift.abs), beta: beta)
    }

    /// Bytes of the planes and the decoded scales this value holds.
    public var storedBytes: Int { planes.count * 8 + (alpha.count + beta.count) * 4 }

    /// The dense weights, row-major `[rows][cols]`.
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { dequantizeRow(r, into: o.baseAddress! + r * cols) }
        }
        return out
    }

    /// Row `row` of the dense weights, `cols` values written to `out`.
    public func dequantizeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let words = wordsPerRow
        let groups = groupsPerRow
        for c in 0..<cols {
            let g = c / groupSize
            var v = beta[row * groups + g]
            for p in 0..<bits {
                let word = planes[(p * rows + row) * words + c / 64]
                let a = alpha[(row * groups + g) * bits + p]
                v += (word >> UInt64(c % 64)) & 1 == 1 ? a : -a
            }
            out[c] = v
        }
    }
}
