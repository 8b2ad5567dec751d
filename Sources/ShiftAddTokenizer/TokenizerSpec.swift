/// Everything needed to rebuild a model's tokenizer, independent of the checkpoint format.
/// Readers fill it from GGUF metadata, tokenizer.json or a llama2.c tokenizer.bin; bundles store it
/// in their manifest.
public struct TokenizerSpec: Codable, Sendable, Equatable {
    public enum Model: String, Codable, Sendable {
        /// Byte-level BPE (GPT-2 style) driven by ranked merges; GGUF `tokenizer.ggml.model = gpt2`.
        case byteLevelBPE = "gpt2"
        /// SentencePiece-style BPE driven by piece scores; GGUF `llama`, llama2.c tokenizer.bin.
        case sentencePiece = "llama"
    }

    /// Token kinds as GGUF numbers them (`tokenizer.ggml.token_type`).
    public enum TokenType: Int32, Codable, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public var model: Model
    /// Pre-tokenizer name (GGUF `tokenizer.ggml.pre`), e.g. `smollm`, `gpt2`, `llama-bpe`.
    public var preTokenizer: String?
    public var tokens: [String]
    /// Piece scores (SentencePiece); nil for merge-driven BPE.
    public var scores: [Float]?
    /// One entry per token; nil means every token is `.normal`.
    public var tokenTypes: [TokenType]?
    /// Merges as "left right" strings, highest priority first (byte-level BPE).
    public var merges: [String]?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var unknownTokenId: Int?
    public var paddingTokenId: Int?
    public var addBosToken: Bool
    public var addEosToken: Bool
    /// SentencePiece: prepend a space to the text before encoding.
    public var addSpacePrefix: Bool

    public init(model: Model, preTokenizer: String? = nil, tokens: [String], scores: [Float]? = nil,
                tokenTypes: [TokenType]? = nil, merges: [String]? = nil, bosTokenId: Int? = nil,
                eosTokenId: Int? = nil, unknownTokenId: Int? = nil, paddingTokenId: Int? = nil,
                addBosToken: Bool = false, addEosToken: Bool = false, addSpacePrefix: Bool = false) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.unknownTokenId = unknownTokenId
        self.paddingTokenId = paddingTokenId
        self.addBosToken = addBosToken
        self.addEosToken = addEosToken
        self.addSpacePrefix = addSpacePrefix
    }
}
