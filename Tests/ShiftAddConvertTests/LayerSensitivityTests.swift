import ShiftAddConvert
import Testing
import ShiftAddBundle

@Suite struct LayerSensitivityTests {
    @Test func matchesTheDefinitionForADiagonalHessian() throws {
        let cols = 8
        let rows = 3
        let h: [Double] = (0..<(cols * cols)).map { $0 % (cols + 1) == 0 ? Double($0 / cols + 1) : 0 }
        let factor = try HessianFactor(hessian: h, cols: cols, damping: 0)
        var rng = TestRandom(seed: 6)
        let w = rng.normals(rows * cols)
        // H diagonal: U = diag(1 / √h).
        let scaled = (0..<(rows * cols)).map { Double(w[$0]) * Double($0 % cols + 1).squareRoot() }
        let frobenius = scaled.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let mean = scaled.reduce(0, +) / Double(scaled.count)
        let variance = scaled.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scaled.count)
        let score = try LayerSensitivity.score(weights: w, rows: rows, cols: cols, factor: factor)
        #expect(abs(score - frobenius * variance) <= 1e-9 * score)
        // Homogeneous of degree 3 in the weights.
        let doubled = try LayerSensitivity.score(weights: w.map { 2 * $0 }, rows: rows, cols: cols, factor: factor)
        #expect(abs(doubled - 8 * score) <= 1e-9 * doubled)
    }
}
