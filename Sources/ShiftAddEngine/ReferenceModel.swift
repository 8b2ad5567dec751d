import COpenBLAS
import ShiftAddModel

/// The fp32 reference implementation of the decoder families (`ModelFamily`) on OpenBLAS; each
/// family's block recipe is in Architectures/. Every quantized path is
/// measured against it, so it stays simple and exact: weights are decoded to fp32 once, products are
/// sgemm calls, and the element-wise parts are plain loops.
///
/// Not thread-safe: one owner drives it. OpenBLAS runs the products on its own threads (see
/// `BLASThreads`), so no work lands on Swift's cooperative pool.
public final class ReferenceModel {
    public let config: ModelConfig

    struct Block {
        var attentionNorm: [Float]
        var ffnNorm: [Float]
        /// Weights by projection, each [outputs][inputs].
        var weights: [TensorName.Projection: [Float]]
        var biases: [TensorName.Projection: [Float]]
        /// Gemma 3's further norms; nil in other families.
        var gemma3: Gemma3Norms? = nil
    }

    var embedding: [Float]
    /// nil when tied to `embedding`.
    var output: [Float]?
    var outputNorm: [Float]
    var blocks: [Block]
    /// Rotary angles of each layer, whose base may differ (Gemma 3's sliding layers).
    let layerRotary: [RotaryTable]

    public init(_ model: some WeightProvider) throws {
        let c = model.config
        config = c
        embedding = try model.floats(TensorName.tokenEmbedding, shape: [c.vocabSize, c.dim])
        output = c.tiedEmbeddings ? nil : try model.floats(TensorName.output, shape: [c.vocabSize, c.dim])
        outputNorm = try model.floats(TensorName.outputNorm, shape: [c.dim])
        blocks = try (0..<c.layerCount).map { l in
            var weights: [TensorName.Projection: [Float]] = [:]
            var biases: [TensorName.Projection: [Float]] = [:]
            for p in TensorName.Projection.allCases {
                let shape = ModelDescription.projectionShape(p, config: c)
                weights[p] = try model.floats(TensorName.weight(p, layer: l), shape: shape)
                if c.attentionBias, [.q, .k, .v].contains(p) {
                    biases[p] = try model.floats(TensorName.bias(p, layer: l), shape: [shape[0]])
                }
            }
            return Block(attentionNorm: try model.floats(TensorName.attentionNorm(l), shape: [c.dim]),
                         ffnNorm: try model.floats(TensorName.ffnNorm(l), shape: [c.dim]),
                         weights: weights, biases: biases,
                         gemma3: c.family == .gemma3 ? try Gemma3Norms(model, layer: l) : nil)
        }
        let style: RotaryTable.RopeStyleKind = c.ropeStyle == .interleaved ? .interleaved : .halfSplit
        layerRotary = (0..<c.layerCount).map { RotaryTable(headDim: c.headDim, theta: c.ropeTheta(layer: $0), style: style) }
    }

    /// A cache for one sequence of at most `capacity` positions (default: the model's context).
    public func makeCache(capacity: Int? = nil) -> KVCache {
        KVCache(layers: config.layerCount, kvDim: config.kvDim, capacity: capacity ?? config.contextLength)
    }

    /// Replaces one projection's weights ([outputs][inputs]), e.g. with the dequantized values of
    /// its reparameterized form, so later forward passes run through it.
    public func setWeights(_ weights: [Float], projection p: TensorName.Projection, layer: Int) {
        precondition(weights.count == blocks[layer].weights[p]!.count, "shape of \(p) in layer \(layer)")
        blocks[layer].weights[p] = weights
    }

    /// The current weights of one projection, [outputs][inputs].
    public func weights(projection p: TensorName.Projection, layer: Int) -> [Float] {
        blocks[layer].weights[p]!
    }

    /// Logits for every position of `tokens`, computed from scratch: row-major [tokens.count][vocabSize].
    public func logits(tokens: [Int]) -> [Float] {
        let cache = makeCache(capacity: tokens.count)
        return forward([(tokens, cache)], allLogits: true)
    }
}
