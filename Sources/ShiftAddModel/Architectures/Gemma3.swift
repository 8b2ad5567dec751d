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
/// norm here is a plain RMSNorm; a Hugging Face checkpoint (`Gemma3ForCausalLM`) stores w, and its
/// reader adds the 1. No soft-capping: llama.cpp applies none with sliding windows.
public enum Gemma3: FamilyDescription {
    static let ggufArchitecture = "gemma3"
    static let huggingFaceClass = "Gemma3ForCausalLM"

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

    /// The configuration of a Hugging Face `Gemma3ForCausalLM` checkpoint (Gemma3TextConfig).
    static func config(huggingFace f: HFConfigFields) throws -> ModelConfig {
        if let act = f.value("hidden_activation") ?? f.value("hidden_act"), act.string != "gelu_pytorch_tanh" {
            throw f.invalid("hidden_activation \(act.string ?? act.kind) is not supported (only gelu_pytorch_tanh)")
        }
        try f.refuseRopeScaling()
        for key in ["final_logit_softcapping", "attn_logit_softcapping"] where f.value(key) != nil {
            throw f.invalid("\(key) is not supported")
        }
        var c = try f.decoderConfig(architecture: ggufArchitecture, tiedByDefault: true)
        c.ropeTheta = Float(try f.number("rope_theta", default: 1_000_000))
        let period = try f.int("sliding_window_pattern") ?? f.int("_sliding_window_pattern") ?? 6
        let settings = Settings(slidingWindow: try f.requiredInt("sliding_window"), globalLayerPeriod: period,
                                slidingRopeTheta: Float(try f.number("rope_local_base_freq", default: 10000)),
                                attentionScale: 1 / Float(try f.number("query_pre_attn_scalar", default: 256)).squareRoot())
        // Newer configs list each layer's kind; only the periodic layout is read.
        if let kinds = f.value("layer_types")?.array {
            let expected = (0..<c.layerCount).map { settings.isSliding(layer: $0) ? "sliding_attention" : "full_attention" }
            guard kinds.map(\.string) == expected else {
                throw f.invalid("layer_types is not \(period - 1) sliding layers then one full, repeated")
            }
        }
        c.gemma3 = settings
        return c
    }

    static func canonicalName(huggingFace name: String, config: ModelConfig) -> HuggingFaceName? {
        switch name {
        case "model.embed_tokens.weight": return .tensor(TensorName.tokenEmbedding)
        case "model.norm.weight": return .tensor(TensorName.outputNorm, added: 1)
        case "lm_head.weight": return .tensor(TensorName.output)
        default: break
        }
        guard let (layer, member) = HuggingFaceName.layerMember(name, layers: config.layerCount) else { return nil }
        let norms = ["input_layernorm.weight": TensorName.attentionNorm(layer),
                     "self_attn.q_norm.weight": Names.queryNorm(layer), "self_attn.k_norm.weight": Names.keyNorm(layer),
                     "post_attention_layernorm.weight": Names.postAttentionNorm(layer),
                     "pre_feedforward_layernorm.weight": TensorName.ffnNorm(layer),
                     "post_feedforward_layernorm.weight": Names.postFFNNorm(layer)]
        if let norm = norms[member] { return .tensor(norm, added: 1) }
        if member.hasSuffix(".weight"), let p = Llama.huggingFaceProjections[String(member.dropLast(".weight".count))] {
            return .tensor(TensorName.weight(p, layer: layer))
        }
        return nil
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
