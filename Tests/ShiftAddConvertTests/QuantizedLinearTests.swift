import ShiftAddConvert
import Testing
import ShiftAddBundle

@Suite struct QuantizedLinearTests {
    /// 2 rows × 70 cols (two 64-bit words, 58 padding bits), groups of 32 (32, 32, 6), 2 planes.
    private func handMade() throws -> QuantizedLinear {
        var rng = TestRandom(seed: 7)
        let padding = ~UInt64(0) << 6
        let planes = (0..<(2 * 2 * 2)).map { i in i % 2 == 1 ? rng.next() & ~padding : rng.next() }
        let alpha = (0..<(2 * 3 * 2)).map { Float($0 + 1) * 0.25 }
        let beta: [Float] = [0.5, -1, 2, 0, -0.125, 4]
        return try QuantizedLinear(rows: 2, cols: 70, groupSize: 32, bits: 2, planes: planes, alpha: alpha, beta: beta)
    }

    @Test func dequantizationFollowsTheCanonicalLayout() throws {
        let q = try handMade()
        #expect(q.wordsPerRow == 2)
        #expect(q.groupsPerRow == 3)
        let dense = q.dequantized()
        for r in 0..<2 {
            for c in 0..<70 {
                let g = c / 32
                var expected = q.beta[r * 3 + g]
                for p in 0..<2 {
                    // planes: [plane][row][word]; bit c % 64 of word c / 64; 1 means +1.
                    let word = q.planes[(p * 2 + r) * 2 + c / 64]
                    let plus = (word >> UInt64(c % 64)) & 1 == 1
                    #expect(q.bit(plane: p, row: r, col: c) == plus)
                    let a = q.alpha[(r * 3 + g) * 2 + p]
                    expected += plus ? a : -a
                }
                #expect(dense[r * 70 + c] == expected)
            }
        }
    }

    @Test func quantizerWritesSignsAtTheDocumentedBits() throws {
        // ±0.5 weights: one plane with alpha 0.5 reproduces them exactly, so each bit is the sign.
        var rng = TestRandom(seed: 3)
        let rows = 3
        let cols = 100
        let w = (0..<(rows * cols)).map { _ in rng.next() & 1 == 1 ? Float(0.5) : -0.5 }
        let q = try BinaryCodingQuantizer.quantize(
            weights: w, rows: rows, cols: cols,
            options: QuantizationOptions(bits: 1, groupSize: 32, fitKinds: .binaryCoding))
        #expect(q.dequantized() == w)
        #expect(q.alpha.allSatisfy { $0 == 0.5 })
        #expect(q.beta.allSatisfy { $0 == 0 })
        for r in 0..<rows {
            for c in 0..<cols {
                let word = q.planes[r * 2 + c / 64]
                #expect(((word >> UInt64(c % 64)) & 1 == 1) == (w[r * cols + c] > 0))
            }
            #expect(q.planes[r * 2 + 1] >> 36 == 0, "padding bits beyond column 100 are zero")
        }
    }

    @Test func rejectsInconsistentLayers() throws {
        let q = try handMade()
        var planes = q.planes
        planes[1] |= UInt64(1) << 63
        #expect(throws: QuantizationError.self) {
            try QuantizedLinear(rows: 2, cols: 70, groupSize: 32, bits: 2, planes: planes, alpha: q.alpha, beta: q.beta)
        }
        #expect(throws: QuantizationError.self) {
            try QuantizedLinear(rows: 2, cols: 70, groupSize: 32, bits: 2, planes: q.planes, alpha: q.alpha.dropLast(), beta: q.beta)
        }
        #expect(throws: QuantizationError.self) {
            try QuantizedLinear(rows: 2, cols: 70, groupSize: 16, bits: 2, planes: q.planes, alpha: q.alpha, beta: q.beta)
        }
        #expect(throws: QuantizationError.self) {
            try QuantizedLinear(rows: 2, cols: 70, groupSize: 32, bits: 5, planes: q.planes, alpha: q.alpha, beta: q.beta)
        }
    }
}
