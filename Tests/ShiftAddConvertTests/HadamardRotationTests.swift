import CShiftKernels
import ShiftAddConvert
import Testing
import ShiftAddBundle

@Suite struct HadamardRotationTests {
    @Test func signsComeFromSplitmix64() {
        var state: UInt64 = 0
        // Published first outputs of splitmix64 seeded with 0.
        #expect(sa_splitmix64(&state) == 0xE220_A839_7B1D_CDAF)
        #expect(sa_splitmix64(&state) == 0x6E78_9E6A_A1B9_65F4)
        var signs = [Float](repeating: 0, count: 70)
        sa_rht_signs(0, &signs, 70)
        let first: UInt64 = 0xE220_A839_7B1D_CDAF
        for i in 0..<64 { #expect(signs[i] == ((first >> UInt64(i)) & 1 == 1 ? -1 : 1)) }
        for i in 64..<70 { #expect(signs[i] == ((0x6E78_9E6A_A1B9_65F4 >> UInt64(i - 64)) & 1 == 1 ? -1 : 1)) }
    }

    @Test(arguments: [4, 8, 16])
    func matchesTheDenseDefinition(block: Int) throws {
        let n = 2 * block
        let rotation = try HadamardRotation(length: n, blockSize: block, seed: 77)
        var rng = TestRandom(seed: 4)
        let x = rng.normals(n)
        var y = x
        rotation.apply(to: &y)
        for k in stride(from: 0, to: n, by: block) {
            for i in 0..<block {
                var s: Double = 0
                for j in 0..<block {
                    // Sylvester Hadamard entry: (−1)^popcount(i & j).
                    let h: Double = (i & j).nonzeroBitCount % 2 == 0 ? 1 : -1
                    s += h * Double(rotation.signs[k + j]) * Double(x[k + j])
                }
                #expect(abs(Double(y[k + i]) - s / Double(block).squareRoot()) < 1e-5)
            }
        }
    }

    @Test(arguments: [32, 64, 128])
    func isOrthonormal(block: Int) throws {
        let n = 384
        let rotation = try HadamardRotation(length: n, blockSize: block, seed: 1234)
        var rng = TestRandom(seed: 8)
        let x = rng.normals(3 * n)
        var y = x
        rotation.apply(to: &y)
        for r in 0..<3 {
            let a = x[(r * n)..<((r + 1) * n)].reduce(0) { $0 + Double($1) * Double($1) }
            let b = y[(r * n)..<((r + 1) * n)].reduce(0) { $0 + Double($1) * Double($1) }
            #expect(abs(a - b) <= 1e-5 * a)
        }
        rotation.applyInverse(to: &y)
        #expect(zip(x, y).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) })
        #expect(throws: QuantizationError.self) { try HadamardRotation(length: 100, blockSize: 64, seed: 0) }
        #expect(throws: QuantizationError.self) { try HadamardRotation(length: 96, blockSize: 48, seed: 0) }
    }

    @Test func rotatedQuantizedProductMatchesTheUnrotatedWeights() throws {
        let l = SyntheticLayer(rows: 32, cols: 192, tokens: 64, seed: 12)
        let rotation = try HadamardRotation(length: l.cols, blockSize: 64, seed: 99)
        var rotatedWeights = l.weights
        rotation.apply(to: &rotatedWeights)
        var rotatedInputs = l.inputs
        rotation.apply(to: &rotatedInputs)
        // Exact products are preserved by the rotation.
        let y = outputs(weights: l.weights, rows: l.rows, cols: l.cols, inputs: l.inputs, tokens: l.tokens)
        let yRotated = outputs(weights: rotatedWeights, rows: l.rows, cols: l.cols, inputs: rotatedInputs, tokens: l.tokens)
        let scale = y.map(abs).max()!
        #expect(zip(y, yRotated).allSatisfy { abs($0 - $1) <= 1e-5 * scale })

        let q = try BinaryCodingQuantizer.quantize(weights: rotatedWeights, rows: l.rows, cols: l.cols,
                                                   options: QuantizationOptions(bits: 3))
        // Ŵ' (R x) == (Ŵ' R) x: the engine's rotated product equals the dense unrotated weights.
        let dense = q.dequantized()
        var unrotated = dense
        rotation.applyInverse(to: &unrotated)
        let a = outputs(weights: dense, rows: l.rows, cols: l.cols, inputs: rotatedInputs, tokens: l.tokens)
        let b = outputs(weights: unrotated, rows: l.rows, cols: l.cols, inputs: l.inputs, tokens: l.tokens)
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
    }

    @Test func rotationLowersTheErrorOnOutlierHeavyWeights() throws {
        let l = SyntheticLayer(rows: 64, cols: 256, tokens: 768, seed: 21, outlierRate: 0.005, outlierScale: 50)
        let rotation = try HadamardRotation(length: l.cols, blockSize: 64, seed: 5)
        var rotatedWeights = l.weights
        rotation.apply(to: &rotatedWeights)
        var rotatedInputs = l.inputs
        rotation.apply(to: &rotatedInputs)
        for bits in [2, 3] {
            let options = QuantizationOptions(bits: bits)
            let plain = try BinaryCodingQuantizer.quantize(weights: l.weights, rows: l.rows, cols: l.cols,
                                                           factor: l.hessianFactor(), options: options)
            let rotated = try BinaryCodingQuantizer.quantize(weights: rotatedWeights, rows: l.rows, cols: l.cols,
                                                             factor: l.hessianFactor(inputs: rotatedInputs), options: options)
            var back = rotated.dequantized()
            rotation.applyInverse(to: &back)
            let plainError = relativeOutputError(l.weights, plain.dequantized(), rows: l.rows, cols: l.cols,
                                                 inputs: l.inputs, tokens: l.tokens)
            let rotatedError = relativeOutputError(l.weights, back, rows: l.rows, cols: l.cols,
                                                   inputs: l.inputs, tokens: l.tokens)
            #expect(rotatedError < plainError)
        }
    }
}
