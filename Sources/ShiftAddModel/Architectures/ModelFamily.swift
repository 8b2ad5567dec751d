/// A model family: what its checkpoints hold and how its decoder block computes. Each family has
/// one home in this folder (its hyper-parameters read from GGUF metadata, its tensor table with
/// the Hugging Face names where a reader takes them) and one block recipe in the reference engine
/// (ShiftAddEngine/Architectures). Docs/architecture.md tells how to add one.
public enum ModelFamily: String, Codable, Sendable, CaseIterable {
    /// LLaMA-style decoders: GGUF `llama`, `mistral` and `qwen2`, llama2.c, Hugging Face LLaMA,
    /// Mistral and Qwen2.
    case llama
    /// Gemma 3 text decoders: GGUF `gemma3`.
    case gemma3

    /// The family of a GGUF `general.architecture` (the name `ModelConfig.architecture` keeps), nil
    /// when no family has it.
    public init?(architecture: String) {
        if Llama.ggufArchitectures[architecture] != nil {
            self = .llama
        } else if architecture == Gemma3.ggufArchitecture {
            self = .gemma3
        } else {
            return nil
        }
    }

    var home: any FamilyDescription.Type {
        switch self {
        case .llama: Llama.self
        case .gemma3: Gemma3.self
        }
    }

    /// Every tensor a model of this family and configuration has, with its shape (outermost
    /// dimension first: [outputs, inputs] for a projection).
    public func tensorTable(_ c: ModelConfig) -> [(name: String, shape: [Int])] { home.tensorTable(c) }
}

/// What each family's home provides to the readers and the validator.
protocol FamilyDescription {
    /// The configuration a GGUF file of this family describes.
    static func config(gguf: GGUFMetadata) throws -> ModelConfig
    /// Every tensor of the model, with its shape.
    static func tensorTable(_ c: ModelConfig) -> [(name: String, shape: [Int])]
    /// The canonical (GGUF) name of Hugging Face parameter `name`, or nil if the model described
    /// by `config` has no such parameter.
    static func canonicalName(huggingFace name: String, config: ModelConfig) -> HuggingFaceName?
}

/// What a Hugging Face parameter name stands for.
enum HuggingFaceName: Equatable {
    /// The tensor of that canonical name, with `added` added to every value as it is decoded (the
    /// 1 of Gemma's norms, which Hugging Face stores as w for a factor 1 + w).
    case tensor(String, added: Float = 0)
    /// Present in some checkpoints but derived, not learned (rotary inverse frequencies).
    case ignored

    /// (layer, member) of `model.layers.<layer>.<member>` with layer below `layers`.
    static func layerMember(_ name: String, layers: Int) -> (Int, String)? {
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), rest[..<dot].allSatisfy({ ("0"..."9").contains($0) }),
              let layer = Int(rest[..<dot]), layer < layers else { return nil }
        return (layer, String(rest[rest.index(after: dot)...]))
    }
}
