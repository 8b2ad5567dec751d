/// The architecture settings of a Hugging Face checkpoint, read from its config.json by the home
/// of the family its `architectures` entry names.
struct HFConfig {
    /// The `architectures` entry that was recognised, e.g. `LlamaForCausalLM`.
    let architecture: String
    /// Tied embeddings as the file states them; the reader also ties when `lm_head` is absent.
    let config: ModelConfig
    let name: String?

    init(path: String) throws {
        let fields = try HFConfigFields(path: path)
        guard let listed = fields.value("architectures")?.array else {
            throw ModelError.missingMetadata(file: path, key: "architectures")
        }
        let names = listed.compactMap(\.string)
        if let architecture = names.first(where: { Llama.huggingFaceClasses[$0] != nil }) {
            config = try Llama.config(huggingFace: fields, architecture: architecture)
            self.architecture = architecture
        } else if names.contains(Gemma3.huggingFaceClass) {
            config = try Gemma3.config(huggingFace: fields)
            architecture = Gemma3.huggingFaceClass
        } else {
            throw ModelError.unsupportedArchitecture(file: path, architecture: names.joined(separator: ", "))
        }
        name = fields.value("_name_or_path")?.string.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Typed look-ups in a config.json, errors naming the file and the key; JSON null reads as absent.
struct HFConfigFields {
    let path: String
    let json: JSONValue

    init(path: String) throws {
        json = try JSONValue.parse(path: path)
        guard json.object != nil else { throw ModelError.malformed(file: path, reason: "not a JSON object") }
        self.path = path
    }

    func invalid(_ reason: String) -> ModelError { .invalidConfig(file: path, reason: reason) }
    func value(_ key: String) -> JSONValue? { json[key].flatMap { $0.isNull ? nil : $0 } }

    func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.int else { throw invalid("\(key) must be an integer, found \(v.kind)") }
        return i
    }

    func requiredInt(_ key: String) throws -> Int {
        guard let i = try int(key) else { throw ModelError.missingMetadata(file: path, key: key) }
        return i
    }

    func number(_ key: String, default fallback: Double) throws -> Double {
        guard let v = value(key) else { return fallback }
        guard let d = v.double else { throw invalid("\(key) must be a number, found \(v.kind)") }
        return d
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw invalid("\(key) must be a boolean, found \(v.kind)") }
        return b
    }

    /// rope_scaling is refused rather than ignored.
    func refuseRopeScaling() throws {
        if let scaling = value("rope_scaling") {
            let kind = scaling["rope_type"]?.string ?? scaling["type"]?.string ?? scaling.kind
            throw invalid("rope_scaling (\(kind)) is not supported")
        }
    }

    /// The hyper-parameters every decoder's config.json gives under the same keys; the family adds
    /// its own.
    func decoderConfig(architecture: String, contextLength: Int? = nil, tiedByDefault: Bool) throws -> ModelConfig {
        let heads = try requiredInt("num_attention_heads")
        let dim = try requiredInt("hidden_size")
        guard heads > 0 else { throw invalid("num_attention_heads must be positive, got \(heads)") }
        return ModelConfig(
            architecture: architecture,
            vocabSize: try requiredInt("vocab_size"),
            dim: dim,
            hiddenDim: try requiredInt("intermediate_size"),
            layerCount: try requiredInt("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: try int("num_key_value_heads") ?? heads,
            headDim: try int("head_dim") ?? dim / heads,
            contextLength: try contextLength ?? requiredInt("max_position_embeddings"),
            ropeTheta: Float(try number("rope_theta", default: 10000)),
            ropeStyle: .halfSplit,
            rmsNormEpsilon: Float(try number("rms_norm_eps", default: 1e-6)),
            tiedEmbeddings: try bool("tie_word_embeddings") ?? tiedByDefault)
    }
}
