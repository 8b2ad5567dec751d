/// Turns text into token ids and back for the vocabulary a `TokenizerSpec` describes: byte-level BPE
/// (GPT-2 family, SmolLM, Llama 3) or SentencePiece-style BPE (Llama 2, llama2.c).
///
/// Token kinds: control and unknown tokens, and the BOS/EOS tokens, are *special*. User-defined tokens
/// are added vocabulary: their text always encodes as the whole token, as in llama.cpp and Hugging Face
/// `tokenizers`.
public final class Tokenizer: Sendable {
    private enum Model: Sendable {
        case byteLevel(ByteLevelBPE, PreTokenizer)
        case sentencePiece(SentencePieceBPE, addSpacePrefix: Bool)
    }

    private let model: Model
    private let table: TokenTable
    private let ids: TokenTextIndex
    private let addBosToken: Bool
    private let addEosToken: Bool
    /// User-defined tokens, matched in all text.
    private let addedTokens: SpecialTokenMatcher
    /// User-defined, control and unknown tokens, matched when parsing special tokens.
    private let specialTokens: SpecialTokenMatcher

    public let bosTokenId: Int?
    public let eosTokenId: Int?
    /// Tokens that end a generated reply: EOS plus the end-of-turn control tokens the vocabulary has.
    public let endOfGenerationIds: Set<Int>

    public var vocabularySize: Int { table.texts.count }

    /// Texts of end-of-turn and end-of-text tokens used by common chat formats.
    private static let endOfGenerationTexts: Set<String> = [
        "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<end_of_turn>", "<|end|>",
    ]

    public init(spec: TokenizerSpec) throws(TokenizerError) {
        let count = spec.tokens.count
        guard count > 0 else { throw .emptyVocabulary }
        if let types = spec.tokenTypes, types.count != count {
            throw .countMismatch(field: "token types", expected: count, found: types.count)
        }
        for (role, id) in [("BOS", spec.bosTokenId), ("EOS", spec.eosTokenId), ("unknown", spec.unknownTokenId)] {
            if let id, !(0..<count).contains(id) {
                throw .tokenIdOutOfRange(role: role, id: id, vocabularySize: count)
            }
        }
        let table = TokenTable(spec: spec)
        let ids = TokenTextIndex(spec.tokens)

        switch spec.model {
        case .byteLevelBPE:
            let preTokenizer = try PreTokenizer(name: spec.preTokenizer)
            guard let merges = spec.merges else { throw .missingMerges }
            // Llama 3 emits a word that is itself a token without running the merges (`ignore_merges`).
            let ignoresMerges = ["llama-bpe", "llama3"].contains(spec.preTokenizer ?? "")
            let bpe = try ByteLevelBPE(tokens: spec.tokens, ids: ids, merges: merges, ignoresMerges: ignoresMerges)
            model = .byteLevel(bpe, preTokenizer)
        case .sentencePiece:
            guard let scores = spec.scores else { throw .missingScores }
            guard scores.count == count else { throw .countMismatch(field: "scores", expected: count, found: scores.count) }
            let spm = SentencePieceBPE(scores: scores, ids: ids, unknownTokenId: spec.unknownTokenId)
            model = .sentencePiece(spm, addSpacePrefix: spec.addSpacePrefix)
        }

        self.table = table
        self.ids = ids
        addBosToken = spec.addBosToken
        addEosToken = spec.addEosToken
        bosTokenId = spec.bosTokenId
        eosTokenId = spec.eosTokenId
        let kinds = table.types
        addedTokens = SpecialTokenMatcher(tokens: spec.tokens, ids: kinds.indices.filter { kinds[$0] == .userDefined })
        specialTokens = SpecialTokenMatcher(tokens: spec.tokens, ids: kinds.indices.filter {
            [.userDefined, .control, .unknown].contains(kinds[$0])
        })
        var endIds = Set(spec.eosTokenId.map { [$0] } ?? [])
        for id in kinds.indices where [.control, .userDefined].contains(kinds[id])
            && Self.endOfGenerationTexts.contains(spec.tokens[id]) {
            endIds.insert(id)
        }
        endOfGenerationIds = endIds
    }

    /// Token ids for `text`. `addSpecial` adds BOS/EOS where the vocabulary asks for them; with
    /// `parseSpecial`, control-token texts in `text` (e.g. `<|im_start|>`) become those tokens instead of
    /// being spelled out.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int] {
        var output: [Int] = []
        if addSpecial, addBosToken, let bosTokenId { output.append(bosTokenId) }
        let scalars = Array(text.unicodeScalars)
        let matcher = parseSpecial ? specialTokens : addedTokens
        let fragments = matcher.isEmpty ? [.text(scalars.indices)] : matcher.fragments(of: scalars)
        switch model {
        case .byteLevel(let bpe, let preTokenizer):
            var encoder = ByteLevelTextEncoder(bpe: bpe, preTokenizer: preTokenizer, scalars: scalars)
            for fragment in fragments {
                switch fragment {
                case .text(let range): encoder.encode(range, into: &output)
                case .token(let id): output.append(id)
                }
            }
        case .sentencePiece(let spm, let addSpacePrefix):
            // Like llama.cpp, every text fragment that starts the input or follows a special token gets the prefix.
            var afterSpecial = true
            for fragment in fragments {
                switch fragment {
                case .text(let range):
                    spm.encode(scalars[range], spacePrefix: addSpacePrefix && afterSpecial, into: &output)
                    afterSpecial = false
                case .token(let id):
                    output.append(id)
                    afterSpecial = true
                }
            }
        }
        if addSpecial, addEosToken, let eosTokenId { output.append(eosTokenId) }
        return output
    }

    /// Text for `ids`: the concatenated `tokenBytes` read as UTF-8 (invalid sequences become U+FFFD).
    /// Special tokens give their text unless `skipSpecial`. For SentencePiece vocabularies with a space
    /// prefix, the prefix is removed again from text at the start or right after a special token.
    /// Ids outside the vocabulary are ignored.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        var removesPrefix = false
        if case .sentencePiece(_, true) = model { removesPrefix = true }
        var bytes: [UInt8] = []
        var atTextStart = true
        for id in ids where table.texts.indices.contains(id) {
            if table.isSpecial[id] {
                if !skipSpecial { bytes += table.bytes[id] }
                atTextStart = true
                continue
            }
            let piece = table.bytes[id]
            let dropsSpace = removesPrefix && atTextStart && piece.first == UInt8(ascii: " ")
            bytes += dropsSpace ? piece.dropFirst() : piece[...]
            atTextStart = false
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Raw bytes token `id` contributes to the output, for assembling UTF-8 while streaming (a
    /// character may span tokens). Special tokens give their text when `renderSpecial`, otherwise
    /// nothing; ids outside the vocabulary give nothing. No space-prefix removal happens here.
    public func tokenBytes(_ id: Int, renderSpecial: Bool = false) -> [UInt8] {
        guard table.texts.indices.contains(id) else { return [] }
        if table.isSpecial[id], !renderSpecial { return [] }
        return table.bytes[id]
    }

    /// The id of the token spelled exactly `piece` (in vocabulary form, e.g. "Ġthe" or "▁the").
    public func tokenId(for piece: String) -> Int? { ids[piece] }

    /// The vocabulary spelling of token `id`.
    public func tokenText(_ id: Int) -> String? {
        table.texts.indices.contains(id) ? table.texts[id] : nil
    }

    /// Whether `id` is a special token (control, unknown, BOS or EOS).
    public func isSpecial(_ id: Int) -> Bool {
        table.texts.indices.contains(id) && table.isSpecial[id]
    }
}
