/// Gemma 3 text decoders, as llama.cpp reads GGUF `gemma3` (src/models/gemma3.cpp):
/// - the embedding row is scaled by √dim;
/// - each block: RMSNorm → q, k, v → RMSNorm of every q and k head (`attn_q_norm`, `attn_k_norm`,
///   one headDim-wide weight shared by the heads) → rotary (Hugging Face's half-split pairing) →
///   attention → o → RMSNorm (`post_attention_norm`) → residual; RMSNorm (`ffn_norm`) →
///   GELU(gate)·up with GELU's tanh form → down → RMSNorm (`post_ffw_norm`) → residual;
/// - five layers of every six attend to a sliding window (the query and the positions before it,
///   `attention.sliding_window` in all) with rotary base 10,000; every sixth attends to the
///   whole context with rotary base `rope.freq_base`;
/// - queries scaled by 1/√headDim (1/√(dim/heads) in the 62-layer 27B model);
/// - the head tied to the embedding.
/// The GGUF norm weights already hold Gemma's 1 + w (convert_hf_to_gguf.py adds the 1), so every
/// norm here is a plain RMSNorm. No soft-capping: llama.cpp applies none with sliding windows.
public enum Gemma3: FamilyDescription {
    static let ggufArchitecture = "gemma3"

    /// What Gemma 3 adds to the shared hyper-parameters.
    public struct Settings: Codable, Sendable, Equatable {
        /// Positions a query of a sliding layer sees, itself included.
        public var slidingWindow: Int
        /// Every `globalLayerPeriod`-th layer (the last of each run) attends to the whole context.
        public var globalLayerPeriod: Int
        /// Rotary base of the sliding layers (`ModelConfig.ropeTheta` is the global layers').
        public var slidingRopeTheta: Float
        /// Factor on q·k before the softmax.
        public var attentionScale: Float

        public init(slidingWindow: Int, globalLayerPeriod: Int = 6, slidingRopeTheta: Float = 10000, attentionScale: Float) {
            self.slidingWindow = slidingWindow
            self.globalLayerPeriod = globalLayerPeriod
            self.slidingRopeTheta = slidingRopeTheta
            self.attentionScale = attentionScale
        }

        public func isSliding(layer: Int) -> Bool { (layer + 1) % globalLayerPeriod != 0 }
    }

    /// The tensors Gemma 3 has beyond the LLaMA ones.
    public enum Names {
        public static func queryNorm(_ layer: Int) -> String { "blk.\(layer).attn_q_norm.weight" }
        public static func keyNorm(_ layer: Int) -> String { "blk.\(layer).attn_k_norm.weight" }
        public static func postAttentionNorm(_ layer: Int) -> String { "blk.\(layer).post_attention_norm.weight" }
        public static func postFFNNorm(_ layer: Int) -> String { "blk.\(layer).post_ffw_norm.weight" }
    }

    static func config(gguf m: GGUFMetadata) throws -> ModelConfig {
        var c = try m.decoderConfig(ropeStyle: .halfSplit, defaultEpsilon: 1e-6)
        // The larger Gemma 3 models stretch the global layers' rotary positions; not read yet.
        for key in ["rope.scaling.type", "rope.scaling.factor"] where m.has(key) {
            throw ModelError.invalidConfig(file: m.path, reason: "\(m.architecture).\(key) (rotary scaling) is not supported")
        }
        let perHead = c.layerCount == 62 ? c.dim / max(c.headCount, 1) : c.headDim
        c.gemma3 = Settings(slidingWindow: try m.int("attention.sliding_window"),
                            attentionScale: 1 / Float(max(perHead, 1)).squareRoot())
        return c
    }

    static func tensorTable(_ c: ModelConfig) -> [(name: String, shape: [Int])] {
        var table: [(name: String, shape: [Int])] = [(TensorName.tokenEmbedding, [c.vocabSize, c.dim]),
                                                     (TensorName.outputNorm, [c.dim])]
        if !c.tiedEmbeddings { table.append((TensorName.output, [c.vocabSize, c.dim])) }
        for l in 0..<c.layerCount {
            table += [(TensorName.attentionNorm(l), [c.dim]), (Names.queryNorm(l), [c.headDim]), (Names.keyNorm(l), [c.headDim]),
                      (Names.postAttentionNorm(l), [c.dim]), (TensorName.ffnNorm(l), [c.dim]), (Names.postFFNNorm(l), [c.dim])]
            for p in TensorName.Projection.allCases {
                table.append((TensorName.weight(p, layer: l), ModelDescription.projectionShape(p, config: c)))
            }
        }
        return table
    }
}
