import Foundation

/// Element-wise operations shared by the engine's forward passes. Each works on raw rows so the
/// callers can run them over activations laid out [tokens][width].
enum Ops {
    /// y = x / rms(x) * weight, for `rows` rows of `width`.
    static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                        rows: Int, width: Int, epsilon: Float) {
        for r in 0..<rows {
            let xr = x + r * width, yr = y + r * width
            var sum: Float = 0
            for i in 0..<width { sum += xr[i] * xr[i] }
            let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
            for i in 0..<width { yr[i] = xr[i] * scale * weight[i] }
        }
    }

    /// dx (+)= ∂/∂x of y = x / rms(x) * weight, given dy, for `rows` rows of `width`:
    /// dxᵢ = r·wᵢ·dyᵢ − xᵢ·r³/width · Σⱼ wⱼ·dyⱼ·xⱼ with r = 1/rms(x).
    static func rmsNormBackward(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                _ dx: UnsafeMutablePointer<Float>, rows: Int, width: Int, epsilon: Float, accumulate: Bool = false) {
        for r in 0..<rows {
            let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width
            var sum: Float = 0, dot: Float = 0
            for i in 0..<width {
                sum += xr[i] * xr[i]
                dot += weight[i] * dyr[i] * xr[i]
            }
            let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
            let k = dot * scale * scale * scale / Float(width)
            for i in 0..<width {
                let g = scale * weight[i] * dyr[i] - xr[i] * k
                dxr[i] = accumulate ? dxr[i] + g : g
            }
        }
    }

    /// gate ← silu(gate) · up, for `count` values.
    static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + Foundation.exp(-g)) * up[i]
        }
    }

    /// gate ← gelu(gate) · up, for `count` values, with GELU's tanh form (Gemma's MLP).
    static func geluGated(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = 0.5 * g * (1 + geluTanh(g)) * up[i]
        }
    }

    /// GELU's tanh form is 0.5·g·(1 + tanh(u)) with u = geluScale·(g + geluCubic·g³); this is tanh(u).
    static func geluTanh(_ g: Float) -> Float { Foundation.tanh(geluScale * (g + geluCubic * g * g * g)) }
    static let geluScale: Float = (2 / Float.pi).squareRoot()
    static let geluCubic: Float = 0.044715

    /// In-place softmax of `count` values; returns nothing, leaves probabilities.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        var sum: Float = 0
        for i in 0..<count {
            let e = Foundation.exp(x[i] - m)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<count { x[i] *= inv }
    }
}

/// Precomputed rotary-embedding angles for one head size and theta.
struct RotaryTable: Sendable {
    let headDim: Int
    let style: RopeStyleKind
    let inverseFrequencies: [Float]

    enum RopeStyleKind: Sendable { case interleaved, halfSplit }

    init(headDim: Int, theta: Float, style: RopeStyleKind) {
        self.headDim = headDim
        self.style = style
        inverseFrequencies = Self.inverseFrequencies(headDim: headDim, theta: theta)
    }

    /// θ^(−2i/headDim) for each pair i of a head: the angle per position of its rotation.
    static func inverseFrequencies(headDim: Int, theta: Float) -> [Float] {
        (0..<headDim / 2).map { i in Float(1 / pow(Double(theta), Double(2 * i) / Double(headDim))) }
    }

    /// Rotates `heads` consecutive heads of one token at `position` (back, when `inverse`: the
    /// rotation's transpose, which carries gradients through it).
    func apply(_ v: UnsafeMutablePointer<Float>, heads: Int, position: Int, inverse: Bool = false) {
        let half = headDim / 2
        for i in 0..<half {
            let angle = Float(position) * inverseFrequencies[i]
            let c = Foundation.cos(angle), s = inverse ? -Foundation.sin(angle) : Foundation.sin(angle)
            for h in 0..<heads {
                let base = v + h * headDim
                let (a, b) = style == .interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
                let x0 = base[a], x1 = base[b]
                base[a] = x0 * c - x1 * s
                base[b] = x0 * s + x1 * c
            }
        }
    }
}
