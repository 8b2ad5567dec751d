import CShiftKernels
import ShiftAddModel
import ShiftAddTokenizer

/// Element types of bundle tensors.
public enum BundleDType: String, Codable, Sendable {
    case f32, f16, u64, u16, i8, u8

    public var size: Int {
        switch self {
        case .f32: 4
        case .f16, .u16: 2
        case .u64: 8
        case .i8, .u8: 1
        }
    }
}

/// Where one tensor's bytes are and how to check them.
public struct BundleTensorEntry: Codable, Sendable, Equatable {
    public var name: String
    public var dtype: BundleDType
    public var shape: [Int]
    /// Byte offset from the start of the data section, a multiple of `BundleFormat.alignment`.
    public var offset: Int
    public var length: Int
    /// SHA-256 of the tensor's bytes, lowercase hex.
    public var sha256: String
}

/// One reparameterized projection.
public struct BundleLayer: Codable, Sendable, Equatable {
    /// Canonical name without suffix, e.g. `blk.3.attn_q`.
    public var name: String
    public var bits: Int
    public var rows: Int
    public var cols: Int
    /// Whether the per-group offset β is stored.
    public var hasOffset: Bool
    /// Measured effect on the output used for bit allocation, when one was measured (the mean
    /// KL divergence of the next-token distribution with this projection alone quantized).
    public var effect: Double?
    /// ShiftAddLLM's sensitivity score of the projection, when one was computed beside `effect`.
    public var sensitivity: Double?

    public init(name: String, bits: Int, rows: Int, cols: Int, hasOffset: Bool, effect: Double? = nil, sensitivity: Double? = nil) {
        self.name = name
        self.bits = bits
        self.rows = rows
        self.cols = cols
        self.hasOffset = hasOffset
        self.effect = effect
        self.sensitivity = sensitivity
    }
}

/// How the projections were reparameterized; shared by every layer of a bundle.
public struct BundleQuantization: Codable, Sendable, Equatable {
    public struct Rotation: Codable, Sendable, Equatable {
        /// "none" or "hadamard".
        public var kind: String
        /// Block size of the Walsh–Hadamard transform.
        public var block: Int
        /// Seed of the random sign vectors (one vector per input width).
        public var seed: UInt64

        public init(kind: String, block: Int, seed: UInt64) {
            self.kind = kind
            self.block = block
            self.seed = seed
        }

        /// Seed of the sign vector for input width `width`: each width has its own signs.
        public func seed(forWidth width: Int) -> UInt64 { seed &+ UInt64(width) }

        /// The ±1 signs for input width `width` (`sa_rht_signs`), or nil when there is no rotation.
        public func signs(width: Int) -> [Float]? {
            guard kind == "hadamard" else { return nil }
            var signs = [Float](repeating: 0, count: width)
            sa_rht_signs(seed(forWidth: width), &signs, width)
            return signs
        }
    }

    public var groupSize: Int
    public var apotTerms: Int
    public var rotation: Rotation
    /// Layout id of the bit planes (see Docs/bundle-format.md).
    public var planeLayout: String
    /// Format id of the scale codes.
    public var scaleCode: String
    public var layers: [BundleLayer]

    public init(groupSize: Int, apotTerms: Int, rotation: Rotation, planeLayout: String, scaleCode: String, layers: [BundleLayer]) {
        self.groupSize = groupSize
        self.apotTerms = apotTerms
        self.rotation = rotation
        self.planeLayout = planeLayout
        self.scaleCode = scaleCode
        self.layers = layers
    }
}

/// The checkpoint a bundle was converted from and how.
public struct BundleProvenance: Codable, Sendable, Equatable {
    public var sourceFile: String
    public var sourceSHA256: String
    public var converterVersion: String
    /// Converter options as given, for reproducing the conversion.
    public var options: [String: String]

    public init(sourceFile: String, sourceSHA256: String, converterVersion: String, options: [String: String]) {
        self.sourceFile = sourceFile
        self.sourceSHA256 = sourceSHA256
        self.converterVersion = converterVersion
        self.options = options
    }
}

/// The JSON manifest at the head of a bundle.
public struct BundleManifest: Codable, Sendable, Equatable {
    public var formatVersion: Int
    public var config: ModelConfig
    public var tokenizer: TokenizerSpec?
    public var chatTemplate: String?
    public var metadata: [String: String]
    public var quantization: BundleQuantization
    /// How the token embedding and output head are stored.
    public var vocabulary: BundleVocabularyStorage
    public var provenance: BundleProvenance
    public var tensors: [BundleTensorEntry]
    /// Bytes of the data section; the file ends right after it.
    public var dataSize: Int

    public init(config: ModelConfig, tokenizer: TokenizerSpec?, chatTemplate: String?, metadata: [String: String],
                quantization: BundleQuantization, vocabulary: BundleVocabularyStorage = .init(),
                provenance: BundleProvenance) {
        formatVersion = BundleFormat.version
        self.config = config
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.metadata = metadata
        self.quantization = quantization
        self.vocabulary = vocabulary
        self.provenance = provenance
        tensors = []
        dataSize = 0
    }
}
