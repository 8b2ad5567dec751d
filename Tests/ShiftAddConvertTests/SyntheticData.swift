import Foundation
import ShiftAddConvert
import ShiftAddBundle

/// Seeded generator for test data (splitmix64 with Box–Muller normals).
struct TestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform())
    }

    mutating func normals(_ count: Int, scale: Double = 1) -> [Float] {
        (0..<count).map { _ in Float(normal() * scale) }
    }
}

/// A linear layer with LLM-like statistics: row and column scales, rare large weight outliers,
/// and inputs X with correlated channels, a few high-variance channels and optionally dead ones.
struct SyntheticLayer {
    let rows: Int
    let cols: Int
    let tokens: Int
    /// Row-major `[rows][cols]`.
    let weights: [Float]
    /// Row-major `[tokens][cols]`.
    let inputs: [Float]

    init(rows: Int, cols: Int, tokens: Int, seed: UInt64, outlierRate: Double = 0.002,
         outlierScale: Double = 30, deadInputs: Int = 0) {
        var rng = TestRandom(seed: seed)
        let rowScale = (0..<rows).map { _ in exp(0.3 * rng.normal()) }
        let colScale = (0..<cols).map { _ in exp(0.3 * rng.normal()) }
        var w = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                var v = 0.02 * rng.normal() * rowScale[r] * colScale[c]
                if rng.uniform() < outlierRate { v *= outlierScale }
                w[r * cols + c] = Float(v)
            }
        }
        // Inputs: a low-rank correlated part plus independent noise; 2% of the channels are loud.
        let latent = max(4, cols / 8)
        let mixing = rng.normals(latent * cols, scale: 1 / Double(latent).squareRoot())
        let channelScale = (0..<cols).map { _ in rng.uniform() < 0.02 ? 12.0 : exp(0.5 * rng.normal()) }
        var x = [Float](repeating: 0, count: tokens * cols)
        for t in 0..<tokens {
            let z = rng.normals(latent)
            for c in 0..<cols {
                var v = 0.3 * rng.normal()
                for k in 0..<latent { v += Double(z[k] * mixing[k * cols + c]) }
                x[t * cols + c] = Float(v * channelScale[c])
            }
        }
        for c in 0..<deadInputs {
            let dead = (c * 7919 + 3) % cols
            for t in 0..<tokens { x[t * cols + dead] = 0 }
        }
        self.rows = rows
        self.cols = cols
        self.tokens = tokens
        self.weights = w
        self.inputs = x
    }

    func hessianFactor(inputs: [Float]? = nil, damping: Double = 0.01) throws -> HessianFactor {
        var acc = try HessianAccumulator(cols: cols)
        try acc.add(inputs ?? self.inputs, tokens: tokens)
        return try HessianFactor(hessian: acc.hessian(), cols: cols, damping: damping)
    }
}

/// Y = W Xᵀ as `[tokens][rows]`, accumulated in Double.
func outputs(weights: [Float], rows: Int, cols: Int, inputs: [Float], tokens: Int) -> [Double] {
    var y = [Double](repeating: 0, count: tokens * rows)
    for t in 0..<tokens {
        for r in 0..<rows {
            var s: Double = 0
            for c in 0..<cols { s += Double(weights[r * cols + c]) * Double(inputs[t * cols + c]) }
            y[t * rows + r] = s
        }
    }
    return y
}

/// ‖W Xᵀ − Ŵ Xᵀ‖ / ‖W Xᵀ‖.
func relativeOutputError(_ reference: [Float], _ approximation: [Float], rows: Int, cols: Int,
                         inputs: [Float], tokens: Int) -> Double {
    let delta = zip(reference, approximation).map { $0 - $1 }
    let d = outputs(weights: delta, rows: rows, cols: cols, inputs: inputs, tokens: tokens)
    let y = outputs(weights: reference, rows: rows, cols: cols, inputs: inputs, tokens: tokens)
    return (d.reduce(0) { $0 + $1 * $1 } / y.reduce(0) { $0 + $1 * $1 }).squareRoot()
}

/// Σ (a − b)².
func squaredDistance(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
}

/// Minimal number of signed powers of two whose sum is `value` (non-adjacent form weight of its
/// significand), independent of the APoT code's own tables.
func signedPowerCount(_ value: Float) -> Int {
    guard value != 0 else { return 0 }
    var m = Int(value.significandBitPattern) | (1 << 23)
    var count = 0
    while m > 0 {
        if m & 1 == 1 {
            let digit = 2 - (m & 3) // +1 or −1
            m -= digit
            count += 1
        }
        m >>= 1
    }
    return count
}
