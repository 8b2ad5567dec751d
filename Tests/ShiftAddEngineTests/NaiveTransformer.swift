import Foundation
import ShiftAddEngine
import ShiftAddModel

/// A direct, unoptimised Double-precision transformer written from the equations, used to check
/// the engine: no BLAS, no cache, one token position at a time.
struct NaiveTransformer {
    let c: ModelConfig
    /// A checkpoint, or a bundle's dequantized weights (`BundleWeights`).
    let model: any WeightProvider

    func w(_ name: String) -> [Double] {
        let shape = c.family.tensorTable(c).first { $0.name == name }!.shape
        return try! model.floats(name, shape: shape).map(Double.init)
    }

    func matvec(_ m: [Double], _ x: [Double], rows: Int) -> [Double] {
        let cols = x.count
        return (0..<rows).map { r in (0..<cols).reduce(0.0) { $0 + m[r * cols + $1] * x[$1] } }
    }

    func rmsNorm(_ x: [Double], _ g: [Double]) -> [Double] {
        let ms = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        let s = 1 / (ms + Double(c.rmsNormEpsilon)).squareRoot()
        return zip(x, g).map { $0 * s * $1 }
    }

    func rope(_ v: inout [Double], heads: Int, position: Int) {
        let hd = c.headDim
        for h in 0..<heads {
            for i in 0..<hd / 2 {
                let freq = 1 / pow(Double(c.ropeTheta), Double(2 * i) / Double(hd))
                let a = Double(position) * freq
                let (p, q) = c.ropeStyle == .interleaved ? (h * hd + 2 * i, h * hd + 2 * i + 1) : (h * hd + i, h * hd + i + hd / 2)
                let x0 = v[p], x1 = v[q]
                v[p] = x0 * cos(a) - x1 * sin(a)
                v[q] = x0 * sin(a) + x1 * cos(a)
            }
        }
    }

    /// Logits for every position, [tokens][vocab].
    func logits(_ tokens: [Int]) -> [[Double]] {
        let emb = w(TensorName.tokenEmbedding)
        var xs = tokens.map { Array(emb[($0 * c.dim)..<(($0 + 1) * c.dim)]) }
        for l in 0..<c.layerCount {
            var keys: [[Double]] = [], values: [[Double]] = []
            var attnOut: [[Double]] = []
            for (p, x) in xs.enumerated() {
                let xn = rmsNorm(x, w(TensorName.attentionNorm(l)))
                var q = matvec(w(TensorName.weight(.q, layer: l)), xn, rows: c.qDim)
                var k = matvec(w(TensorName.weight(.k, layer: l)), xn, rows: c.kvDim)
                var v = matvec(w(TensorName.weight(.v, layer: l)), xn, rows: c.kvDim)
                if c.attentionBias {
                    q = zip(q, w(TensorName.bias(.q, layer: l))).map(+)
                    k = zip(k, w(TensorName.bias(.k, layer: l))).map(+)
                    v = zip(v, w(TensorName.bias(.v, layer: l))).map(+)
                }
                rope(&q, heads: c.headCount, position: p)
                rope(&k, heads: c.kvHeadCount, position: p)
                keys.append(k); values.append(v)
                var out = [Double](repeating: 0, count: c.qDim)
                let hd = c.headDim
                for h in 0..<c.headCount {
                    let g = h / (c.headCount / c.kvHeadCount)
                    var scores = (0...p).map { j in
                        (0..<hd).reduce(0.0) { $0 + q[h * hd + $1] * keys[j][g * hd + $1] } / Double(hd).squareRoot()
                    }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let s = scores.reduce(0, +)
                    for j in 0...p { for d in 0..<hd { out[h * hd + d] += scores[j] / s * values[j][g * hd + d] } }
                }
                attnOut.append(out)
            }
            for p in xs.indices {
                let o = matvec(w(TensorName.weight(.o, layer: l)), attnOut[p], rows: c.dim)
                var x = zip(xs[p], o).map(+)
                let xn = rmsNorm(x, w(TensorName.ffnNorm(l)))
                let g = matvec(w(TensorName.weight(.gate, layer: l)), xn, rows: c.hiddenDim)
                let u = matvec(w(TensorName.weight(.up, layer: l)), xn, rows: c.hiddenDim)
                let hdn = zip(g, u).map { $0 / (1 + exp(-$0)) * $1 }
                x = zip(x, matvec(w(TensorName.weight(.down, layer: l)), hdn, rows: c.dim)).map(+)
                xs[p] = x
            }
        }
        let head = c.tiedEmbeddings ? emb : w(TensorName.output)
        return xs.map { matvec(head, rmsNorm($0, w(TensorName.outputNorm)), rows: c.vocabSize) }
    }
}
