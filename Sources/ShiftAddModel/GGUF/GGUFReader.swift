import ShiftAddTokenizer

/// Reads a GGUF checkpoint into a `ModelDescription`; the architecture's family (see
/// `ModelFamily`) reads its hyper-parameters and names its tensors.
public enum GGUFReader {
    public static func read(path: String) throws -> ModelDescription {
        let gguf = try GGUFFile(path: path)
        let meta = gguf.metadata
        guard let arch = meta["general.architecture"]?.stringValue else {
            throw ModelError.missingMetadata(file: path, key: "general.architecture")
        }
        guard let family = ModelFamily(architecture: arch) else {
            throw ModelError.unsupportedArchitecture(file: path, architecture: arch)
        }
        var byName: [String: TensorRecord] = [:]
        for t in gguf.tensors {
            guard byName[t.name] == nil else { throw ModelError.malformed(file: path, reason: "duplicate tensor '\(t.name)'") }
            byName[t.name] = t
        }
        let tokenizer = try tokenizerSpec(meta, path: path)
        let config = try family.home.config(gguf: GGUFMetadata(path: path, architecture: arch, values: meta, tensors: byName))
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
