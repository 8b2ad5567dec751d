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

    /// What a Hugging Face parameter name stands for.
    enum HuggingFaceName {
        case tensor(String)
        /// Present in some checkpoints but derived, not learned (rotary inverse frequencies).
        case ignored
    }

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
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), rest[..<dot].allSatisfy({ ("0"..."9").contains($0) }),
              let layer = Int(rest[..<dot]), layer < config.layerCount else { return nil }
        let member = String(rest[rest.index(after: dot)...])
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
