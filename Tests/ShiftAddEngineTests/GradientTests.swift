import Foundation
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// The training backward pass against finite differences of the inference forward pass.
@Suite struct GradientTests {
    /// L = Σ cᵢⱼ·logitᵢⱼ over two sequences, with fixed random c: ∂L/∂logits = c.
    /// A tiny LLaMA, and a tiny Gemma 3 whose window of 4 is shorter than the sequences (layers
    /// 0-4 slide, layer 5 attends to everything).
    static func models() -> [GGUFBuilder] {
        [GGUFBuilder.tinyModel(dim: 16, hidden: 24, layers: 2, heads: 4, kvHeads: 2, vocab: 40, seed: 5),
                         GGUFBuilder.tinyGemma3(layers: 6, window: 4, seed: 5)]
    }

    @Test(arguments: 0..<2) func weightGradientsMatchFiniteDifferences(model index: Int) throws {
        let path = temporaryPath("gradient.gguf")
        try Self.models()[index].write(to: path)
        let model = try ReferenceModel(GGUFReader.read(path: path))
        let sequences = [[3, 17, 5, 29, 8, 1], [12, 0, 33, 7, 21, 4]]
        var rng = TestRandom(seed: 9)
        let weights = (0..<(sequences.count * 6 * 40)).map { _ in Double(rng.normal()) }
        func loss() -> Double {
            let logits = sequences.flatMap { model.logits(tokens: $0) }
            return zip(logits, weights).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
        let (value, gradients) = model.weightGradients(sequences: sequences) { logits in
            let l = zip(logits, weights).reduce(0) { $0 + Double($1.0) * $1.1 }
            logits = weights.map(Float.init)
            return l
        }
        #expect(abs(value - loss()) < 1e-3 * max(1, abs(value)))
        for layer in 0..<model.config.layerCount {
            for p in TensorName.Projection.allCases {
                let original = model.weights(projection: p, layer: layer)
                var analytic: [Double] = [], numeric: [Double] = []
                for index in stride(from: 7, to: original.count, by: max(1, original.count / 5)) {
                    let h: Float = 3e-3
                    var w = original
                    w[index] = original[index] + h
                    model.setWeights(w, projection: p, layer: layer)
                    let up = loss()
                    w[index] = original[index] - h
                    model.setWeights(w, projection: p, layer: layer)
                    let down = loss()
                    model.setWeights(original, projection: p, layer: layer)
                    numeric.append((up - down) / Double(2 * h))
                    analytic.append(Double(gradients[layer][p]![index]))
                }
                let difference = zip(analytic, numeric).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                let norm = numeric.reduce(0) { $0 + $1 * $1 }.squareRoot()
                #expect(difference <= 1e-2 * norm + 1e-4, "layer \(layer) \(p): \(analytic) against \(numeric)")
            }
        }
    }
}
