import ShiftAddTokenizer
import Testing

/// SentencePiece-style BPE on a vocabulary small enough to follow by hand.
@Suite struct SentencePieceBPETests {
    // Pieces first, then the 256 byte tokens at 13 + byte value.
    static let pieces: [(String, Float)] = [
        ("<unk>", 0), ("<s>", 0), ("</s>", 0), ("▁", -1), ("h", -2), ("e", -2), ("l", -2), ("o", -2),
        ("ll", -0.5), ("he", -1), ("▁he", -3), ("llo", -0.2), ("hello", -4),
    ]
    static let unknown = 0, bos = 1, eos = 2, space = 3, h = 4, l = 6, ll = 8, spaceHe = 10, llo = 11, hello = 12

    static func byteId(_ byte: UInt8) -> Int { 13 + Int(byte) }

    static func tokenizer(spacePrefix: Bool = true, byteTokens: Bool = true, addBos: Bool = false) throws -> Tokenizer {
        var tokens = pieces.map(\.0)
        var scores = pieces.map(\.1)
        var types = [TokenizerSpec.TokenType.unknown, .control, .control]
            + [TokenizerSpec.TokenType](repeating: .normal, count: pieces.count - 3)
        if byteTokens {
            for byte in 0..<256 {
                let hex = String(byte, radix: 16, uppercase: true)
                tokens.append("<0x\(hex.count == 1 ? "0" + hex : hex)>")
                scores.append(0)
                types.append(.byte)
            }
        }
        return try Tokenizer(spec: TokenizerSpec(
            model: .sentencePiece, tokens: tokens, scores: scores, tokenTypes: types, bosTokenId: bos,
            eosTokenId: eos, unknownTokenId: unknown, addBosToken: addBos, addSpacePrefix: spacePrefix))
    }

    @Test func highestScoringPairMergesFirst() throws {
        // ▁ h e l l o: "ll" (-0.5), then "llo" (-0.2), then "he" (-1), then "▁he" (-3) beats "hello" (-4),
        // and nothing joins "▁he" with "llo".
        #expect(try Self.tokenizer().encode("hello", addSpecial: false) == [Self.spaceHe, Self.llo])
    }

    @Test func spacePrefixIsOptional() throws {
        // Without "▁" in front, "he" and "llo" finally merge into "hello".
        #expect(try Self.tokenizer(spacePrefix: false).encode("hello") == [Self.hello])
    }

    @Test func spacesBecomeMarkers() throws {
        #expect(try Self.tokenizer().encode("he llo") == [Self.spaceHe, Self.space, Self.llo])
    }

    @Test func equalScoresMergeLeftmostFirst() throws {
        #expect(try Self.tokenizer(spacePrefix: false).encode("lll") == [Self.ll, Self.l])
    }

    @Test func unknownCharactersFallBackToBytes() throws {
        // "€" is E2 82 AC.
        let ids = try Self.tokenizer().encode("h€")
        #expect(ids == [Self.space, Self.h, Self.byteId(0xE2), Self.byteId(0x82), Self.byteId(0xAC)])
        #expect(try Self.tokenizer(byteTokens: false).encode("h€") == [Self.space, Self.h, Self.unknown])
    }

    @Test func bosAndControlTokens() throws {
        let t = try Self.tokenizer(addBos: true)
        #expect(t.encode("hello") == [Self.bos, Self.spaceHe, Self.llo])
        #expect(t.encode("hello", addSpecial: false) == [Self.spaceHe, Self.llo])
        #expect(t.encode("") == [Self.bos])
        // Text after a parsed control token gets the space prefix again.
        #expect(t.encode("<s>hello</s>", addSpecial: false, parseSpecial: true) == [Self.bos, Self.spaceHe, Self.llo, Self.eos])
        #expect(t.endOfGenerationIds == [Self.eos])
    }

    @Test func bosWithoutSpacePrefix() throws {
        // Gemma's form: BOS added, no "▁" in front of the text.
        let t = try Self.tokenizer(spacePrefix: false, addBos: true)
        #expect(t.encode("hello") == [Self.bos, Self.hello])
        #expect(t.encode(" hello") == [Self.bos, Self.spaceHe, Self.llo])
        #expect(t.decode(t.encode(" hello"), skipSpecial: true) == " hello")
    }

    /// Pieces of every kind, as llama.cpp looks them up: merging may reach a control or byte token's
    /// spelling, and user-defined tokens (Gemma's whitespace runs) are cut out of the text first.
    @Test func mergesReachTokensOfEveryKind() throws {
        let pieces: [(String, Float, TokenizerSpec.TokenType)] = [
            ("<bos>", -1000, .control), ("  ", -1000, .userDefined), ("<", -1, .normal), ("b", -1, .normal),
            ("o", -1, .normal), ("s", -1, .normal), (">", -1, .normal), ("▁", -1, .normal), ("<b", -2, .normal),
            ("os", -2, .normal), ("os>", -3, .normal), ("▁b", -4, .normal),
        ]
        let t = try Tokenizer(spec: TokenizerSpec(
            model: .sentencePiece, tokens: pieces.map(\.0), scores: pieces.map(\.1), tokenTypes: pieces.map(\.2),
            bosTokenId: 0, addBosToken: true))
        // "<" "b" "o" "s" ">" → "<b" "os" → "<b" "os>" → "<bos>", the control token, even as plain text.
        #expect(t.encode("<bos>", addSpecial: false) == [0])
        // Two spaces are the user-defined token; one space stays "▁" and merges.
        #expect(t.encode("b  b b", addSpecial: false) == [3, 1, 3, 11])
    }

    @Test func decodeRestoresSpacesAndBytes() throws {
        let t = try Self.tokenizer(addBos: true)
        // The prefix space is removed at the start and after BOS, not elsewhere.
        #expect(t.decode([Self.bos, Self.spaceHe, Self.space, Self.llo], skipSpecial: true) == "he llo")
        #expect(t.decode([Self.bos, Self.spaceHe, Self.llo]) == "<s>hello")
        #expect(t.decode([Self.space, Self.h, Self.byteId(0xE2), Self.byteId(0x82), Self.byteId(0xAC)]) == "h€")
        #expect(t.decode([Self.h, Self.spaceHe]) == "h he")
        #expect(t.tokenBytes(Self.spaceHe) == Array(" he".utf8))
        #expect(t.tokenBytes(Self.byteId(0xE2)) == [0xE2])
        #expect(t.tokenBytes(Self.bos).isEmpty)
        for text in ["hello", "he llo", "h€ lll", "  two  spaces "] {
            #expect(t.decode(t.encode(text), skipSpecial: true) == text)
        }
    }
}
