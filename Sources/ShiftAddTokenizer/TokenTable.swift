/// Per-token facts the tokenizer needs besides the encoding model: each token's kind, whether it is a
/// special (control) token, and the bytes it contributes to decoded text.
struct TokenTable: Sendable {
    let texts: [String]
    let types: [TokenizerSpec.TokenType]
    let isSpecial: [Bool]
    /// Decoded bytes of each token; for special tokens, their text.
    let bytes: [[UInt8]]

    init(spec: TokenizerSpec) {
        texts = spec.tokens
        let marked = Set([spec.bosTokenId, spec.eosTokenId].compactMap { $0 })
        let types = spec.tokenTypes ?? spec.tokens.indices.map { id in
            Self.inferredType(id: id, text: spec.tokens[id], spec: spec, control: marked)
        }
        self.types = types
        isSpecial = types.indices.map { types[$0] == .control || types[$0] == .unknown || marked.contains($0) }
        bytes = types.indices.map { id in
            let text = spec.tokens[id]
            switch (spec.model, types[id]) {
            case (_, .control), (_, .unknown), (_, .userDefined):
                return Array(text.utf8)
            case (.byteLevelBPE, _):
                // Tokens with characters outside the byte alphabet stand for their own text.
                return ByteLevelAlphabet.decode(text) ?? Array(text.utf8)
            case (.sentencePiece, .byte):
                return Self.byteValue(text).map { [$0] } ?? Array(text.utf8)
            case (.sentencePiece, _):
                return Self.unescapingSpaces(Array(text.utf8))
            }
        }
    }

    /// Vocabularies without token kinds (llama2.c) mark them by id and by the `<0xNN>` spelling.
    private static func inferredType(id: Int, text: String, spec: TokenizerSpec, control: Set<Int>)
        -> TokenizerSpec.TokenType {
        if id == spec.unknownTokenId { return .unknown }
        if control.contains(id) { return .control }
        if spec.model == .sentencePiece, byteValue(text) != nil { return .byte }
        return .normal
    }

    /// The byte a `<0xNN>` token stands for.
    static func byteValue(_ text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8[0..<3].elementsEqual("<0x".utf8), utf8[5] == UInt8(ascii: ">"),
              let high = hexValue(utf8[3]), let low = hexValue(utf8[4]) else { return nil }
        return high << 4 | low
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// UTF-8 with every "▁" turned back into a space.
    private static func unescapingSpaces(_ bytes: [UInt8]) -> [UInt8] {
        let marker = SentencePieceBPE.spaceMarker
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i...].starts(with: marker) {
                out.append(UInt8(ascii: " "))
                i += marker.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
