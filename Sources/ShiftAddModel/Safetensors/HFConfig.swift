/// The architecture settings of a Hugging Face checkpoint, read from its config.json.
struct HFConfig {
    /// The `architectures` entry that was recognised, e.g. `LlamaForCausalLM`.
    let architecture: String
    /// Tied embeddings as the file states them; the reader also ties when `lm_head` is absent.
    let config: ModelConfig
    let name: String?

    init(path: String) throws {
        let json = try JSONValue.parse(path: path)
        guard json.object != nil else { throw ModelError.malformed(file: path, reason: "not a JSON object") }
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

        guard let listed = value("architectures")?.array else {
            throw ModelError.missingMetadata(file: path, key: "architectures")
        }
        let names = listed.compactMap(\.string)
        guard let architecture = names.first(where: { Llama.huggingFaceClasses[$0] != nil }),
              let family = Llama.huggingFaceClasses[architecture] else {
            throw ModelError.unsupportedArchitecture(file: path, architecture: names.joined(separator: ", "))
        }
        if let act = value("hidden_act"), act.string != "silu" {
            throw invalid("hidden_act \(act.string ?? act.kind) is not supported (only silu)")
        }
        if let scaling = value("rope_scaling") {
            let kind = scaling["rope_type"]?.string ?? scaling["type"]?.string ?? scaling.kind
            throw invalid("rope_scaling (\(kind)) is not supported")
        }

        let heads = try requiredInt("num_attention_heads")
        let dim = try requiredInt("hidden_size")
        var context = try requiredInt("max_position_embeddings")
        // Within the window, sliding-window attention equals full attention, so the window bounds
        // the context instead of changing the computation.
        let slidingWindowActive = architecture == "Qwen2ForCausalLM" ? (try bool("use_sliding_window") ?? false) : true
        if slidingWindowActive, let window = try int("sliding_window"), window > 0 { context = min(context, window) }
        guard heads > 0 else { throw invalid("num_attention_heads must be positive, got \(heads)") }

        self.architecture = architecture
        self.name = value("_name_or_path")?.string.flatMap { $0.isEmpty ? nil : $0 }
        self.config = ModelConfig(
            architecture: family.name,
            vocabSize: try requiredInt("vocab_size"),
            dim: dim,
            hiddenDim: try requiredInt("intermediate_size"),
            layerCount: try requiredInt("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: try int("num_key_value_heads") ?? heads,
            headDim: try int("head_dim") ?? dim / heads,
            contextLength: context,
            ropeTheta: Float(try number("rope_theta", default: 10000)),
            ropeStyle: .halfSplit,
            rmsNormEpsilon: Float(try number("rms_norm_eps", default: 1e-6)),
            tiedEmbeddings: try bool("tie_word_embeddings") ?? false,
            attentionBias: try family.attentionBias || bool("attention_bias") == true)
    }
}
