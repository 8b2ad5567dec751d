/// How rotary embeddings pair the dimensions of a head.
public enum RopeStyle: String, Codable, Sendable {
    /// Adjacent pairs (2i, 2i+1): the original LLaMA layout, used by GGUF `llama` and llama2.c.
    case interleaved
    /// Pairs (i, i + d/2): Hugging Face's `rotate_half` layout, used by safetensors checkpoints and GGUF `qwen2`.
    case halfSplit
}

/// Architecture hyper-parameters of a decoder, shared by every reader and the engine; what only one
/// family has lives in that family's settings (see Architectures/).
public struct ModelConfig: Codable, Sendable, Equatable {
    public var architecture: String
    public var vocabSize: Int
    public var dim: Int
    public var hiddenDim: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var contextLength: Int
    public var ropeTheta: Float
    public var ropeStyle: RopeStyle
    public var rmsNormEpsilon: Float
    /// The output head reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// q, k and v projections carry biases (Qwen2).
    public var attentionBias: Bool
    /// Gemma 3's settings; nil in every other family.
    public var gemma3: Gemma3.Settings?

    public init(architecture: String, vocabSize: Int, dim: Int, hiddenDim: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int, headDim: Int? = nil, contextLength: Int,
                ropeTheta: Float, ropeStyle: RopeStyle, rmsNormEpsilon: Float,
                tiedEmbeddings: Bool, attentionBias: Bool = false, gemma3: Gemma3.Settings? = nil) {
        self.architecture = architecture
        self.vocabSize = vocabSize
        self.dim = dim
        self.hiddenDim = hiddenDim
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim ?? dim / headCount
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.ropeStyle = ropeStyle
        self.rmsNormEpsilon = rmsNormEpsilon
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias
        self.gemma3 = gemma3
    }

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }

    /// The family `architecture` belongs to; `validate` refuses a name no family has.
    public var family: ModelFamily { ModelFamily(architecture: architecture) ?? .llama }

    /// Positions a query of `layer` attends to, itself included; nil for the whole context.
    public func attentionWindow(layer: Int) -> Int? {
        guard let g = gemma3, g.isSliding(layer: layer) else { return nil }
        return g.slidingWindow
    }

    /// Rotary base of `layer`.
    public func ropeTheta(layer: Int) -> Float {
        guard let g = gemma3, g.isSliding(layer: layer) else { return ropeTheta }
        return g.slidingRopeTheta
    }

    /// Factor on q·k before the softmax.
    public var attentionScale: Float { gemma3?.attentionScale ?? 1 / Float(headDim).squareRoot() }

    /// Factor on the embedding rows entering the first block (Gemma's √dim).
    public var embeddingScale: Float { gemma3 == nil ? 1 : Float(dim).squareRoot() }

    /// Checks the relations the engine relies on; readers call it before returning a model.
    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfig(file: source, reason: reason) }
        for (name, value) in [("vocab size", vocabSize), ("dim", dim), ("hidden dim", hiddenDim),
                              ("layer count", layerCount), ("head count", headCount),
                              ("kv head count", kvHeadCount), ("head dim", headDim),
                              ("context length", contextLength)] where value <= 0 {
            throw fail("\(name) must be positive, got \(value)")
        }
        guard headCount % kvHeadCount == 0 else {
            throw fail("head count \(headCount) is not a multiple of kv head count \(kvHeadCount)")
        }
        guard headDim % 2 == 0 else { throw fail("head dim \(headDim) must be even for rotary embeddings") }
        guard ropeTheta > 0, rmsNormEpsilon > 0 else { throw fail("rope theta and rms epsilon must be positive") }
        guard let family = ModelFamily(architecture: architecture) else {
            throw ModelError.unsupportedArchitecture(file: source, architecture: architecture)
        }
        guard (family == .gemma3) == (gemma3 != nil) else {
            throw fail("architecture \(architecture) \(gemma3 == nil ? "lacks" : "cannot have") Gemma 3's settings")
        }
        if let g = gemma3 {
            guard g.slidingWindow > 0, g.globalLayerPeriod > 0, g.slidingRopeTheta > 0, g.attentionScale > 0 else {
                throw fail("Gemma 3's sliding window \(g.slidingWindow), layer period \(g.globalLayerPeriod), rotary base and attention scale must be positive")
            }
            guard !attentionBias else { throw fail("Gemma 3 has no attention biases") }
        }
    }
}

/// Canonical tensor names (GGUF's), used by every reader, the converter and the engine.
public enum TensorName {
    public static let tokenEmbedding = "token_embd.weight"
    public static let outputNorm = "output_norm.weight"
    public static let output = "output.weight"

    public enum Projection: String, CaseIterable, Codable, Sendable {
        case q = "attn_q", k = "attn_k", v = "attn_v", o = "attn_output"
        case gate = "ffn_gate", up = "ffn_up", down = "ffn_down"
    }

    public static func attentionNorm(_ layer: Int) -> String { "blk.\(layer).attn_norm.weight" }
    public static func ffnNorm(_ layer: Int) -> String { "blk.\(layer).ffn_norm.weight" }
    public static func weight(_ p: Projection, layer: Int) -> String { "blk.\(layer).\(p.rawValue).weight" }
    public static func bias(_ p: Projection, layer: Int) -> String { "blk.\(layer).\(p.rawValue).bias" }
}
