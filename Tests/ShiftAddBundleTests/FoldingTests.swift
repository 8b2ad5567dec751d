import ShiftAddBundle
import Testing

@Suite struct FoldingTests {
    /// −α on a plane is α on the flipped plane: the dense weights are unchanged, every α is
    /// non-negative, and only the bits of the negative scales' groups flip.
    @Test func foldingNegativeScalesKeepsTheWeights() throws {
        let rows = 3, cols = 100, groupSize = 32, bits = 2
        let words = 2, groups = 4
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
        let padding = ~UInt64(0) << UInt64(cols % 64)
        let planes = (0..<(bits * rows * words)).map { i in i % words == words - 1 ? next() & ~padding : next() }
        let alpha = (0..<(rows * groups * bits)).map { i in Float(i % 5) * (i % 3 == 0 ? -0.25 : 0.5) }
        let beta = (0..<(rows * groups)).map { Float($0 % 4) * 0.125 }
        let linear = try QuantizedLinear(rows: rows, cols: cols, groupSize: groupSize, bits: bits, planes: planes, alpha: alpha, beta: beta)
        let folded = try linear.foldingNegativeScales()
        #expect(folded.dequantized() == linear.dequantized())
        #expect(folded.alpha == alpha.map(abs) && folded.beta == beta)
        for r in 0..<rows {
            for c in 0..<cols {
                for p in 0..<bits {
                    let negative = alpha[(r * groups + c / groupSize) * bits + p] < 0
                    #expect(folded.bit(plane: p, row: r, col: c) == (linear.bit(plane: p, row: r, col: c) != negative))
                }
            }
        }
    }
}
