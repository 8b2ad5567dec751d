import ShiftAddTokenizer

/// Reads a GGUF checkpoint of a LLaMA-family model into a `ModelDescription`.
public enum GGUFReader {
    /// Architectures whose GGUF tensors follow the LLaMA layout, with their rotary pairing.
    static let architectures: [String: RopeStyle] = ["llama": .interleaved, "mistral": .interleaved, "qwen2": .halfSplit]

    public static func read(path: String) throws -> ModelDescription {
        let gguf = try GGUFFile(path: path)
        let meta = gguf.metadata
        func string(_ key: String) throws -> String {
            guard let v = meta[key]?.stringValue else { throw ModelError.missingMetadata(file: path, key: key) }
            return v
        }
        let arch = try string("general.architecture")
        guard let ropeStyle = architectures[arch] else {
            throw ModelError.unsupportedArchitecture(file: path, architecture: arch)
        }
        func int(_ key: String, default value: Int? = nil) throws -> Int {
            if let v = meta["\(arch).\(key)"] {
                guard let i = v.intValue else { throw ModelError.malformed(file: path, reason: "\(arch).\(key) is not an integer") }
                return i
            }
            guard let value else { throw ModelError.missingMetadata(file: path, key: "\(arch).\(key)") }
            return value
        }
        func float(_ key: String, default value: Float) throws -> Float {
            guard let v = meta["\(arch).\(key)"] else { return value }
            guard let d = v.doubleValue else { throw ModelError.malformed(file: path, reason: "\(arch).\(key) is not a number") }
            return Float(d)
        }

        var byName: [String: TensorRecord] = [:]
        for t in gguf.tensors {
            guard byName[t.name] == nil else { throw ModelError.malformed(file: path, reason: "duplicate tensor '\(t.name)'") }
            byName[t.name] = t
        }
        guard let embedding = byName[TensorName.tokenEmbedding] else {
            throw ModelError.missingTensor(file: path, tensor: TensorName.tokenEmbedding)
        }
        let tokenizer = try tokenizerSpec(meta, path: path)
        let dim = try int("embedding_length")
        let heads = try int("attention.head_count")
        let config = ModelConfig(
            architecture: arch,
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
            rmsNormEpsilon: try float("attention.layer_norm_rms_epsilon", default: 1e-5),
            tiedEmbeddings: byName[TensorName.output] == nil,
            attentionBias: byName[TensorName.bias(.q, layer: 0)] != nil)
        try config.validate(source: path)

        var info: [String: String] = [:]
        for key in ["general.name", "general.basename", "general.size_label", "general.license", "general.organization"] {
            if let v = meta[key]?.stringValue { info[key] = v }
        }
        let model = ModelDescription(path: path, format: .gguf, config: config, tensors: byName, tokenizer: tokenizer,
                                     chatTemplate: meta["tokenizer.chat_template"]?.stringValue, metadata: info)
        try model.validateTensors()
        return model
    }

    /// The tokenizer of a GGUF file alone, whatever its architecture (tools that only tokenize need
    /// no engine support for the model); nil when the file describes none.
    public static func readTokenizer(path: String) throws -> TokenizerSpec? {
        try tokenizerSpec(try GGUFFile(path: path).metadata, path: path)
    }

    static func tokenizerSpec(_ meta: [String: GGUFValue], path: String) throws -> TokenizerSpec? {
        guard let modelName = meta["tokenizer.ggml.model"]?.stringValue else { return nil }
        guard let model = TokenizerSpec.Model(rawValue: modelName) else {
            throw ModelError.malformed(file: path, reason: "unsupported tokenizer model '\(modelName)'")
        }
        guard let tokenValues = meta["tokenizer.ggml.tokens"]?.arrayValue else {
            throw ModelError.missingMetadata(file: path, key: "tokenizer.ggml.tokens")
        }
        let tokens = try tokenValues.map {
            guard let s = $0.stringValue else { throw ModelError.malformed(file: path, reason: "tokenizer.ggml.tokens holds a non-string") }
            return s
        }
        func optionalArray<T>(_ key: String, _ convert: (GGUFValue) -> T?) throws -> [T]? {
            guard let values = meta[key]?.arrayValue else { return nil }
            guard values.count == tokens.count || key == "tokenizer.ggml.merges" else {
                throw ModelError.malformed(file: path, reason: "\(key) has \(values.count) entries for \(tokens.count) tokens")
            }
            return try values.map {
                guard let v = convert($0) else { throw ModelError.malformed(file: path, reason: "\(key) holds a value of the wrong type") }
                return v
            }
        }
        let scores = try optionalArray("tokenizer.ggml.scores") { $0.doubleValue.map(Float.init) }
        let types = try optionalArray("tokenizer.ggml.token_type") { v in
            v.intValue.flatMap { TokenizerSpec.TokenType(rawValue: Int32($0)) }
        }
        let merges = try optionalArray("tokenizer.ggml.merges") { $0.stringValue }
        func tokenId(_ key: String) throws -> Int? {
            guard let v = meta[key] else { return nil }
            guard let id = v.intValue, id >= 0, id < tokens.count else {
                throw ModelError.malformed(file: path, reason: "\(key) = \(v) is not a token id")
            }
            return id
        }
        return TokenizerSpec(
            model: model, preTokenizer: meta["tokenizer.ggml.pre"]?.stringValue, tokens: tokens, scores: scores,
            tokenTypes: types, merges: merges,
            bosTokenId: try tokenId("tokenizer.ggml.bos_token_id"),
            eosTokenId: try tokenId("tokenizer.ggml.eos_token_id"),
            unknownTokenId: try tokenId("tokenizer.ggml.unknown_token_id"),
            paddingTokenId: try tokenId("tokenizer.ggml.padding_token_id"),
            addBosToken: meta["tokenizer.ggml.add_bos_token"]?.boolValue ?? (model == .sentencePiece),
            addEosToken: meta["tokenizer.ggml.add_eos_token"]?.boolValue ?? false,
            addSpacePrefix: meta["tokenizer.ggml.add_space_prefix"]?.boolValue ?? (model == .sentencePiece))
    }
}
