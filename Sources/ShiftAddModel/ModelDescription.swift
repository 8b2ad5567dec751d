import ShiftAddTokenizer

/// The checkpoint formats the readers accept.
public enum CheckpointFormat: String, Codable, Sendable {
    case gguf, safetensors, llama2c
}

/// What every reader produces: the architecture, the named tensors (canonical GGUF names, see
/// `TensorName`), the tokenizer and the chat template. Tensors stay in their mapped files until
/// decoded.
public struct ModelDescription: Sendable {
    public let path: String
    public let format: CheckpointFormat
    public let config: ModelConfig
    public let tensors: [String: TensorRecord]
    public let tokenizer: TokenizerSpec?
    public let chatTemplate: String?
    /// Descriptive metadata worth showing to users (e.g. `general.name`).
    public let metadata: [String: String]

    public init(path: String, format: CheckpointFormat, config: ModelConfig, tensors: [String: TensorRecord],
                tokenizer: TokenizerSpec?, chatTemplate: String?, metadata: [String: String] = [:]) {
        self.path = path
        self.format = format
        self.config = config
        self.tensors = tensors
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.metadata = metadata
    }

    public func tensor(_ name: String) throws -> TensorRecord {
        guard let t = tensors[name] else { throw ModelError.missingTensor(file: path, tensor: name) }
        return t
    }

    /// The tensor decoded to fp32, after checking it has `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let t = try tensor(name)
        guard t.shape == shape else { throw ModelError.wrongShape(file: path, tensor: name, expected: shape, found: t.shape) }
        return t.floats()
    }

    /// Checks that every tensor of the model's family (see `ModelFamily.tensorTable`) exists with
    /// the shape the config implies.
    public func validateTensors() throws {
        for (name, shape) in config.family.tensorTable(config) {
            let t = try tensor(name)
            guard t.shape == shape else { throw ModelError.wrongShape(file: path, tensor: name, expected: shape, found: t.shape) }
        }
    }

    /// [outputs, inputs] of a projection.
    public static func projectionShape(_ p: TensorName.Projection, config c: ModelConfig) -> [Int] {
        switch p {
        case .q: [c.qDim, c.dim]
        case .k, .v: [c.kvDim, c.dim]
        case .o: [c.dim, c.qDim]
        case .gate, .up: [c.hiddenDim, c.dim]
        case .down: [c.dim, c.hiddenDim]
        }
    }
}
