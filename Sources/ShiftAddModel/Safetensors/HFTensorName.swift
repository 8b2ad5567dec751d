/// Hugging Face parameter names of LLaMA-family models and their canonical (GGUF) equivalents.
enum HFTensorName {
    enum Mapping {
        case tensor(String)
        /// Present in some checkpoints but derived, not learned (rotary inverse frequencies).
        case ignored
    }

    static let projections: [String: TensorName.Projection] = [
        "self_attn.q_proj": .q, "self_attn.k_proj": .k, "self_attn.v_proj": .v, "self_attn.o_proj": .o,
        "mlp.gate_proj": .gate, "mlp.up_proj": .up, "mlp.down_proj": .down,
    ]

    /// The canonical name of `name`, or nil if the model described by `config` has no such parameter.
    static func canonical(_ name: String, config: ModelConfig) -> Mapping? {
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
        if member.hasSuffix(".weight"), let p = projections[String(member.dropLast(".weight".count))] {
            return .tensor(TensorName.weight(p, layer: layer))
        }
        if config.attentionBias, member.hasSuffix(".bias"),
           let p = projections[String(member.dropLast(".bias".count))], [.q, .k, .v].contains(p) {
            return .tensor(TensorName.bias(p, layer: layer))
        }
        return nil
    }
}
