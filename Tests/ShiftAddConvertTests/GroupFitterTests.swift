import ShiftAddConvert
import Testing
import ShiftAddBundle

@Suite struct GroupFitterTests {
    /// A group of weights: normal, with an occasional outlier and an occasional shift.
    private func group(_ rng: inout TestRandom, count: Int) -> [Float] {
        let shift = rng.uniform() < 0.3 ? rng.normal() * 0.02 : 0
        return (0..<count).map { _ in
            var v = rng.normal() * 0.01 + shift
            if rng.uniform() < 0.02 { v *= 25 }
            return Float(v)
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func refinementNeverIncreasesTheWeightError(bits: Int) throws {
        var rng = TestRandom(seed: UInt64(100 + bits))
        let kinds: [GroupFitKinds] = [.binaryCoding, .binaryCodingWithOffset]
        let fitters = try (0...10).map { try GroupFitter(bits: bits, apotTerms: 3, refinementRounds: $0) }
        for trial in 0..<150 {
            let values = group(&rng, count: [64, 37, 128][trial % 3])
            let base = APoTGrid.rowBase(maxMagnitude: values.map(abs).max()!)
            for kind in kinds {
                let errors = fitters.map { $0.fit(values, base: base, kind: kind).squaredError }
                for (a, b) in zip(errors, errors.dropFirst()) { #expect(b <= a) }
                // The reported error is the error of the returned scales with nearest values.
                let fit = try GroupFitter(bits: bits, apotTerms: 3, refinementRounds: 10).fit(values, base: base, kind: kind)
                #expect(abs(fit.squaredError - nearestError(values, fit)) <= 1e-12 + 1e-9 * fit.squaredError)
            }
        }
    }

    @Test func refinementImprovesOnTheGreedyStart() throws {
        var rng = TestRandom(seed: 5)
        var greedy = 0.0
        var refined = 0.0
        let start = try GroupFitter(bits: 3, apotTerms: 3, refinementRounds: 0)
        let full = try GroupFitter(bits: 3, apotTerms: 3, refinementRounds: 20)
        for _ in 0..<100 {
            let values = group(&rng, count: 64)
            let base = APoTGrid.rowBase(maxMagnitude: values.map(abs).max()!)
            greedy += start.fit(values, base: base, kind: .binaryCoding).squaredError
            refined += full.fit(values, base: base, kind: .binaryCoding).squaredError
        }
        #expect(refined < 0.8 * greedy)
    }

    @Test func rangeGridCoversMinimumAndMaximumUniformly() throws {
        let values: [Float] = (0..<64).map { Float($0) / 64 - 0.25 }
        let fitter = try GroupFitter(bits: 2, apotTerms: 4, refinementRounds: 0)
        let fit = fitter.fit(values, base: APoTGrid.rowBase(maxMagnitude: 0.75), kind: .rangeGrid)
        // max − min = 63/64, step = (63/64) / 6 rounded to APoT, alpha = (step, 2·step).
        #expect(fit.alpha[1] == 2 * fit.alpha[0])
        #expect(abs(Double(fit.alpha[0]) - 63.0 / 64 / 6) < 0.01)
        #expect(abs(Double(fit.beta) - (-0.25 + 63.0 / 128)) < 0.01)
    }

    private func nearestError(_ values: [Float], _ fit: GroupFit) -> Double {
        let bits = fit.alpha.count
        let levels = (0..<(1 << bits)).map { pattern -> Float in
            var v = fit.beta
            for i in 0..<bits { v += (pattern >> i) & 1 == 1 ? fit.alpha[i] : -fit.alpha[i] }
            return v
        }
        return values.reduce(0) { sum, x in
            let d = levels.map { abs(Double($0) - Double(x)) }.min()!
            return sum + d * d
        }
    }
}
