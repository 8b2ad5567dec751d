import ShiftAddTokenizer

/// The bytes each generated token adds to the text, so that the pieces of a sequence concatenate to
/// exactly the bytes `Tokenizer.decode(_:skipSpecial: true)` reads: special tokens (control,
/// unknown, BOS, EOS) add nothing, ids outside the vocabulary are ignored, and a SentencePiece
/// vocabulary with a space prefix loses the leading space at the start of the text and right after
/// a special token.
struct DecodedPieces: Sendable {
    let tokenizer: Tokenizer
    private var atTextStart = true

    init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    mutating func bytes(for token: Int) -> [UInt8] {
        guard (0..<tokenizer.vocabularySize).contains(token) else { return [] }
        if tokenizer.isSpecial(token) {
            atTextStart = true
            return []
        }
        var piece = tokenizer.tokenBytes(token)
        if atTextStart, piece.first == UInt8(ascii: " "), decodeDropsLeadingSpace(token, piece) {
            piece.removeFirst()
        }
        atTextStart = false
        return piece
    }

    /// Whether decoding the piece alone drops its leading space, which is what the vocabulary's space
    /// prefix does (the space is a whole character, so the rest decodes the same either way).
    private func decodeDropsLeadingSpace(_ token: Int, _ piece: [UInt8]) -> Bool {
        tokenizer.decode([token]).utf8.count < String(decoding: piece, as: UTF8.self).utf8.count
    }
}
