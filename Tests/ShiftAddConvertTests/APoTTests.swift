import ShiftAddConvert
import Testing
import ShiftAddBundle

@Suite struct APoTTests {
    @Test(arguments: 1...4)
    func roundingGivesTheNearestSumOfFewSignedPowersOfTwo(terms: Int) {
        let grid = APoTGrid.forTerms(terms)
        let base = -3
        // Every value the code can express at this base, for a brute-force nearest search.
        let all = (0..<APoTCode.magnitudeCodeCount(terms: terms)).map {
            APoTCode.value(alphaCode: $0, terms: terms, base: base)
        }
        var rng = TestRandom(seed: UInt64(terms))
        for _ in 0..<400 {
            let v = rng.normal() * 0.05
            let r = grid.round(v, base: base)
            #expect(signedPowerCount(r) <= terms)
            #expect((r < 0) == (v < 0) || r == 0)
            let bestDistance = all.map { abs(Double($0) - abs(v)) }.min()!
            #expect(abs(Double(abs(r)) - abs(v)) == bestDistance)
        }
    }

    @Test func codeWidthsAndCounts() {
        #expect((1...4).map { APoTCode.magnitudeCodeCount(terms: $0) } == [16, 106, 646, 3886])
        #expect((1...4).map { APoTCode.alphaCodeBits(terms: $0) } == [4, 7, 10, 12])
        #expect((1...4).map { APoTCode.betaCodeBits(terms: $0) } == [5, 8, 11, 13])
    }

    @Test(arguments: 1...4)
    func everyCodeRoundTrips(terms: Int) throws {
        let grid = APoTGrid.forTerms(terms)
        for base in [-20, -7, 0, 5] {
            for code in 0..<APoTCode.magnitudeCodeCount(terms: terms) {
                let value = APoTCode.value(alphaCode: code, terms: terms, base: base)
                #expect(signedPowerCount(value) <= terms)
                let canonical = try #require(grid.magnitudeCode(of: value, base: base))
                #expect(canonical <= code)
                #expect(APoTCode.value(alphaCode: canonical, terms: terms, base: base) == value)
                #expect(grid.magnitudeCode(of: APoTCode.value(alphaCode: canonical, terms: terms, base: base), base: base) == canonical)
                #expect(grid.round(Double(value), base: base) == value)
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func quantizedScalesEncodeExactlyWithinTheBitBudget(bits: Int) throws {
        let layer = SyntheticLayer(rows: 24, cols: 200, tokens: 64, seed: 11)
        for terms in 1...4 {
            let q = try BinaryCodingQuantizer.quantize(
                weights: layer.weights, rows: layer.rows, cols: layer.cols,
                options: QuantizationOptions(bits: bits, groupSize: 64, apotTerms: terms))
            #expect(q.alpha.allSatisfy { $0 >= 0 && signedPowerCount($0) <= terms })
            #expect(q.beta.allSatisfy { signedPowerCount($0) <= terms })
            let encoded = try EncodedScales(encoding: q, terms: terms)
            #expect(encoded.alphaValues().map(\.bitPattern) == q.alpha.map(\.bitPattern))
            #expect(encoded.betaValues().map(\.bitPattern) == q.beta.map(\.bitPattern))
            #expect(encoded.alphaCodes.allSatisfy { Int($0) < 1 << APoTCode.alphaCodeBits(terms: terms) })
            #expect(encoded.betaCodes.allSatisfy { Int($0) < 1 << APoTCode.betaCodeBits(terms: terms) })
            let reread = try EncodedScales(terms: terms, rowBase: encoded.rowBase,
                                           alphaCodes: encoded.alphaCodes, betaCodes: encoded.betaCodes)
            #expect(reread == encoded)
            for cols in [576, 1536] {
                #expect(EncodedScales.scaleBitsPerWeight(bits: bits, groupSize: 64, cols: cols, terms: terms) <= 1.0)
            }
        }
    }

    @Test func scalesOutsideTheCodeAreRejected() throws {
        // 1 + 2^-10 needs two terms 10 octaves apart: not a one-term value.
        let q = try QuantizedLinear(rows: 1, cols: 64, groupSize: 64, bits: 1, planes: [0],
                                    alpha: [1 + 1.0 / 1024], beta: [0])
        #expect(throws: QuantizationError.self) { try EncodedScales(encoding: q, terms: 1) }
        #expect(throws: QuantizationError.self) {
            try EncodedScales(terms: 1, rowBase: [0], alphaCodes: [16], betaCodes: [0])
        }
    }
}
