import Foundation
import ShiftAddEngine
import ShiftAddModel

/// Gemma 3's equations written out directly in Double precision, to check the engine: no BLAS,
/// no cache, one position at a time (see `Gemma3` for the recipe and where it comes from).
struct NaiveGemma3 {
    let c: ModelConfig
    let model: any WeightProvider
    let base: NaiveTransformer

    init(c: ModelConfig, model: any WeightProvider) {
        self.c = c
        self.model = model
        base = NaiveTransformer(c: c, model: model)
    }

    func w(_ name: String) -> [Double] { base.w(name) }

    /// Half-split rotary pairing (i, i + headDim/2) with base `theta`.
    func rope(_ v: inout [Double], heads: Int, position: Int, theta: Double) {
        let hd = c.headDim
        for h in 0..<heads {
            for i in 0..<hd / 2 {
                let a = Double(position) / pow(theta, Double(2 * i) / Double(hd))
                let (p, q) = (h * hd + i, h * hd + i + hd / 2)
                let x0 = v[p], x1 = v[q]
                v[p] = x0 * cos(a) - x1 * sin(a)
                v[q] = x0 * sin(a) + x1 * cos(a)
            }
        }
    }

    /// RMSNorm of each head of `v` with the shared weight `g`.
    func normHeads(_ v: [Double], _ g: [Double]) -> [Double] {
        stride(from: 0, to: v.count, by: c.headDim).flatMap { base.rmsNorm(Array(v[$0..<($0 + c.headDim)]), g) }
    }

    func gelu(_ x: Double) -> Double { 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }

    /// Logits for every position, [tokens][vocab].
    func logits(_ tokens: [Int]) -> [[Double]] {
        let g = c.gemma3!
        let emb = w(TensorName.tokenEmbedding)
        var xs = tokens.map { t in emb[(t * c.dim)..<((t + 1) * c.dim)].map { $0 * Double(c.dim).squareRoot() } }
        for l in 0..<c.layerCount {
            let global = (l + 1) % g.globalLayerPeriod == 0
            let theta = Double(global ? c.ropeTheta : g.slidingRopeTheta)
            var keys: [[Double]] = [], values: [[Double]] = []
            var attnOut: [[Double]] = []
            for (p, x) in xs.enumerated() {
                let xn = base.rmsNorm(x, w(TensorName.attentionNorm(l)))
                var q = normHeads(base.matvec(w(TensorName.weight(.q, layer: l)), xn, rows: c.qDim), w(Gemma3.Names.queryNorm(l)))
                var k = normHeads(base.matvec(w(TensorName.weight(.k, layer: l)), xn, rows: c.kvDim), w(Gemma3.Names.keyNorm(l)))
                let v = base.matvec(w(TensorName.weight(.v, layer: l)), xn, rows: c.kvDim)
                rope(&q, heads: c.headCount, position: p, theta: theta)
                rope(&k, heads: c.kvHeadCount, position: p, theta: theta)
                keys.append(k); values.append(v)
                let first = global ? 0 : max(0, p + 1 - g.slidingWindow)
                var out = [Double](repeating: 0, count: c.qDim)
                let hd = c.headDim
                for h in 0..<c.headCount {
                    let kv = h / (c.headCount / c.kvHeadCount)
                    var scores = (first...p).map { j in
                        (0..<hd).reduce(0.0) { $0 + q[h * hd + $1] * keys[j][kv * hd + $1] } / Double(hd).squareRoot()
                    }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let s = scores.reduce(0, +)
                    for (i, j) in (first...p).enumerated() {
                        for d in 0..<hd { out[h * hd + d] += scores[i] / s * values[j][kv * hd + d] }
                    }
                }
                attnOut.append(out)
            }
            for p in xs.indices {
                let o = base.rmsNorm(base.matvec(w(TensorName.weight(.o, layer: l)), attnOut[p], rows: c.dim),
                                     w(Gemma3.Names.postAttentionNorm(l)))
                var x = zip(xs[p], o).map(+)
                let xn = base.rmsNorm(x, w(TensorName.ffnNorm(l)))
                let gate = base.matvec(w(TensorName.weight(.gate, layer: l)), xn, rows: c.hiddenDim)
                let up = base.matvec(w(TensorName.weight(.up, layer: l)), xn, rows: c.hiddenDim)
                let hidden = zip(gate, up).map { gelu($0) * $1 }
                let down = base.rmsNorm(base.matvec(w(TensorName.weight(.down, layer: l)), hidden, rows: c.dim),
                                        w(Gemma3.Names.postFFNNorm(l)))
                x = zip(x, down).map(+)
                xs[p] = x
            }
        }
        return xs.map { base.matvec(emb, base.rmsNorm($0, w(TensorName.outputNorm)), rows: c.vocabSize) }
    }
}
