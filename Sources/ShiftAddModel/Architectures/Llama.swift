/// LLaMA-style decoders (LLaMA, Mistral, Qwen2, SmolLM2): pre-norm blocks with RMSNorm, rotary q
/// and k, grouped-query attention, a SwiGLU MLP; q/k/v biases in Qwen2; a head of its own or tied
/// to the embedding.
public enum Llama: FamilyDescription {
    /// GGUF architectures with this layout, with their rotary pairing.
    static let ggufArchitectures: [String: RopeStyle] = ["llama": .interleaved, "mistral": .interleaved, "qwen2": .halfSplit]

    /// Hugging Face classes of this family → (GGUF architecture name, whether q/k/v carry biases by default).
    static let huggingFaceClasses: [String: (name: String, attentionBias: Bool)] = [
        "LlamaForCausalLM": ("llama", false),
        "MistralForCausalLM": ("llama", false),
        "Qwen2ForCausalLM": ("qwen2", true),
    ]

    static func config(gguf m: GGUFMetadata) throws -> ModelConfig {
        var c = try m.decoderConfig(ropeStyle: ggufArchitectures[m.architecture]!, defaultEpsilon: 1e-5)
        c.attentionBias = m.tensors[TensorName.bias(.q, layer: 0)] != nil
        return c
    }

    /// The configuration of a Hugging Face checkpoint of class `architecture`.
    static func config(huggingFace f: HFConfigFields, architecture: String) throws -> ModelConfig {
        let family = huggingFaceClasses[architecture]!
        if let act = f.value("hidden_act"), act.string != "silu" {
            throw f.invalid("hidden_act \(act.string ?? act.kind) is not supported (only silu)")
        }
        try f.refuseRopeScaling()
        var context = try f.requiredInt("max_position_embeddings")
        // Within the window, sliding-window attention equals full attention, so the window bounds
        // the context instead of changing the computation.
        let slidingWindowActive = architecture == "Qwen2ForCausalLM" ? (try f.bool("use_sliding_window") ?? false) : true
        if slidingWindowActive, let window = try f.int("sliding_window"), window > 0 { context = min(context, window) }
        var c = try f.decoderConfig(architecture: family.name, contextLength: context, tiedByDefault: false)
        c.attentionBias = try family.attentionBias || f.bool("attention_bias") == true
        return c
    }

    static func tensorTable(_ c: ModelConfig) -> [(name: String, shape: [Int])] {
        var table: [(name: String, shape: [Int])] = [(TensorName.tokenEmbedding, [c.vocabSize, c.dim]),
                                                     (TensorName.outputNorm, [c.dim])]
        if !c.tiedEmbeddings { table.append((TensorName.output, [c.vocabSize, c.dim])) }
        for l in 0..<c.layerCount {
            table.append((TensorName.attentionNorm(l), [c.dim]))
            table.append((TensorName.ffnNorm(l), [c.dim]))
            for p in TensorName.Projection.allCases {
                let shape = ModelDescription.projectionShape(p, config: c)
                table.append((TensorName.weight(p, layer: l), shape))
                if c.attentionBias, [.q, .k, .v].contains(p) { table.append((TensorName.bias(p, layer: l), [shape[0]])) }
            }
        }
        return table
    }

    /// Hugging Face names of the projections, shared with the families that name them alike.
    static let huggingFaceProjections: [String: TensorName.Projection] = [
        "self_attn.q_proj": .q, "self_attn.k_proj": .k, "self_attn.v_proj": .v, "self_attn.o_proj": .o,
        "mlp.gate_proj": .gate, "mlp.up_proj": .up, "mlp.down_proj": .down,
    ]

    /// The canonical (GGUF) name of Hugging Face parameter `name`, or nil if the model described by
    /// `config` has no such parameter.
    static func canonicalName(huggingFace name: String, config: ModelConfig) -> HuggingFaceName? {
        switch name {
        case "model.embed_tokens.weight": return .tensor(TensorName.tokenEmbedding)
        case "model.norm.weight": return .tensor(TensorName.outputNorm)
        case "lm_head.weight": return .tensor(TensorName.output)
        default: break
        }
        guard let (layer, member) = HuggingFaceName.layerMember(name, layers: config.layerCount) else { return nil }
        switch member {
        case "input_layernorm.weight": return .tensor(TensorName.attentionNorm(layer))
        case "post_attention_layernorm.weight": return .tensor(TensorName.ffnNorm(layer))
        case "self_attn.rotary_emb.inv_freq": return .ignored
        default: break
        }
        if member.hasSuffix(".weight"), let p = huggingFaceProjections[String(member.dropLast(".weight".count))] {
            return .tensor(TensorName.weight(p, layer: layer))
        }
        if config.attentionBias, member.hasSuffix(".bias"),
           let p = huggingFaceProjections[String(member.dropLast(".bias".count))], [.q, .k, .v].contains(p) {
            return .tensor(TensorName.bias(p, layer: layer))
        }
        return nil
    }
}
