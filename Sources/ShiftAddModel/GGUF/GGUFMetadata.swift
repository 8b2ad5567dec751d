/// A GGUF file's metadata and tensors as the family homes read them: typed look-ups of the keys
/// under the architecture's prefix, errors naming the file and the key.
struct GGUFMetadata {
    let path: String
    let architecture: String
    let values: [String: GGUFValue]
    let tensors: [String: TensorRecord]

    /// `<architecture>.<key>` as an integer, or `value` when absent (required when nil).
    func int(_ key: String, default value: Int? = nil) throws -> Int {
        if let v = values["\(architecture).\(key)"] {
            guard let i = v.intValue else { throw ModelError.malformed(file: path, reason: "\(architecture).\(key) is not an integer") }
            return i
        }
        guard let value else { throw ModelError.missingMetadata(file: path, key: "\(architecture).\(key)") }
        return value
    }

    /// `<architecture>.<key>` as a number, or `value` when absent.
    func float(_ key: String, default value: Float) throws -> Float {
        guard let v = values["\(architecture).\(key)"] else { return value }
        guard let d = v.doubleValue else { throw ModelError.malformed(file: path, reason: "\(architecture).\(key) is not a number") }
        return Float(d)
    }

    func has(_ key: String) -> Bool { values["\(architecture).\(key)"] != nil }

    /// The hyper-parameters every decoder family writes under the same keys; the family adds its own.
    func decoderConfig(ropeStyle: RopeStyle, defaultEpsilon: Float) throws -> ModelConfig {
        guard let embedding = tensors[TensorName.tokenEmbedding] else {
            throw ModelError.missingTensor(file: path, tensor: TensorName.tokenEmbedding)
        }
        let dim = try int("embedding_length")
        let heads = try int("attention.head_count")
        return ModelConfig(
            architecture: architecture,
            vocabSize: try int("vocab_size", default: embedding.shape[0]),
            dim: dim,
            hiddenDim: try int("feed_forward_length"),
            layerCount: try int("block_count"),
            headCount: heads,
            kvHeadCount: try int("attention.head_count_kv", default: heads),
            headDim: try int("attention.key_length", default: heads > 0 ? dim / heads : 0),
            contextLength: try int("context_length"),
            ropeTheta: try float("rope.freq_base", default: 10000),
            ropeStyle: ropeStyle,
            rmsNormEpsilon: try float("attention.layer_norm_rms_epsilon", default: defaultEpsilon),
            tiedEmbeddings: tensors[TensorName.output] == nil)
    }
}
