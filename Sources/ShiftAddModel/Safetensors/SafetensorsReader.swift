/// Reads a Hugging Face checkpoint: config.json, one or more `.safetensors` files, and the
/// tokenizer files beside them. Tensors keep the Hugging Face (rotate-half) layout of q and k, so
/// the config says `.halfSplit` and no weight is permuted or copied.
public enum SafetensorsReader {
    /// Metadata key holding why `tokenizer` is nil, when it is.
    public static let tokenizerUnsupportedKey = "tokenizer.unsupported"
    /// Metadata key listing, comma-separated, every end-of-sequence id when generation_config.json
    /// gives several.
    public static let eosTokenIdsKey = "tokenizer.eos_token_ids"

    /// `path` is a checkpoint directory, a `.safetensors` file, or a `.safetensors.index.json`;
    /// config.json and the tokenizer files are taken from its directory.
    public static func read(path: String) throws -> ModelDescription {
        let layout = try SafetensorsLayout(path: path)
        let hf = try HFConfig(path: layout.directory + "/config.json")
        var config = hf.config
        try config.validate(source: layout.directory + "/config.json")

        var tensors: [String: TensorRecord] = [:]
        for shard in layout.shards {
            let file = try SafetensorsFile(path: shard.path)
            for (name, entry) in file.entries.sorted(by: { $0.key < $1.key }) {
                if let listed = shard.names, !listed.contains(name) { continue }
                guard let mapping = config.family.home.canonicalName(huggingFace: name, config: config) else {
                    throw ModelError.malformed(file: shard.path, reason: "unexpected tensor '\(name)': "
                                               + "\(hf.architecture) as configured has no such parameter")
                }
                guard case let .tensor(canonical, added) = mapping else { continue }
                guard tensors[canonical] == nil else {
                    throw ModelError.malformed(file: shard.path, reason: "tensor '\(name)' appears twice")
                }
                tensors[canonical] = try TensorRecord(name: canonical, shape: entry.shape, type: entry.type,
                                                      file: file.file, offset: entry.offset, added: added)
            }
            for name in (shard.names ?? []).sorted() where file.entries[name] == nil {
                throw ModelError.missingTensor(file: shard.path, tensor: name)
            }
        }
        // Hugging Face ties the output head to the embedding when told to, or when lm_head is absent.
        if config.tiedEmbeddings || tensors[TensorName.output] == nil {
            config.tiedEmbeddings = true
            tensors[TensorName.output] = nil
        }

        // Shapes first: the tokenizer tables are sized by a vocabulary the embedding has confirmed.
        try ModelDescription(path: path, format: .safetensors, config: config, tensors: tensors,
                             tokenizer: nil, chatTemplate: nil).validateTensors()
        let tokenizer = try HFTokenizer(directory: layout.directory, vocabSize: config.vocabSize)
        var metadata = ["general.name": hf.name ?? Self.lastComponent(of: layout.directory),
                        "general.architecture": hf.architecture]
        metadata[tokenizerUnsupportedKey] = tokenizer.unsupportedReason
        if !tokenizer.eosTokenIds.isEmpty {
            metadata[eosTokenIdsKey] = tokenizer.eosTokenIds.map(String.init).joined(separator: ",")
        }
        return ModelDescription(path: path, format: .safetensors, config: config, tensors: tensors,
                                tokenizer: tokenizer.spec, chatTemplate: tokenizer.chatTemplate, metadata: metadata)
    }

    static func lastComponent(of directory: String) -> String {
        directory.split(separator: "/").last.map(String.init) ?? directory
    }
}
