import ShiftAddTokenizer
import Testing

/// Byte-level BPE on a hand-made vocabulary whose merge ranks disagree with "longest token first".
@Suite struct ByteLevelBPETests {
    // "Ġ" is the byte-level spelling of a space.
    static let tokens = ["a", "b", "c", "Ġ", "ab", "abc", "Ġa", "Ġab", "bc", "aa", "aaa", "<ctl>", "<usr>"]
    static let merges = ["b c", "a b", "ab c", "Ġ a", "Ġa b", "a a", "aa a"]

    static func tokenizer(pre: String = "gpt2") throws -> Tokenizer {
        var types = [TokenizerSpec.TokenType](repeating: .normal, count: tokens.count)
        types[11] = .control
        types[12] = .userDefined
        return try Tokenizer(spec: TokenizerSpec(model: .byteLevelBPE, preTokenizer: pre, tokens: tokens,
                                                 tokenTypes: types, merges: merges))
    }

    @Test func lowestRankMergesFirst() throws {
        let t = try Self.tokenizer()
        // "b c" (rank 0) beats "a b" (rank 1), and no merge joins "a" with "bc".
        #expect(t.encode("abc") == [0, 8])
        // "a b" (rank 1) beats "Ġ a" (rank 3), and no merge joins "Ġ" with "ab".
        #expect(t.encode(" ab") == [3, 4])
        #expect(t.encode("cab") == [2, 4])
        #expect(t.encode("abc ab") == [0, 8, 3, 4])
    }

    @Test func equalRanksMergeLeftmostFirst() throws {
        let t = try Self.tokenizer()
        // a a a: the left pair merges, then "aa a".
        #expect(t.encode("aaa") == [10])
        // a a a a: left pair, then the right pair (rank 5) before "aa a" (rank 6) could apply.
        #expect(t.encode("aaaa") == [9, 9])
    }

    @Test func bytesWithoutATokenAreDropped() throws {
        #expect(try Self.tokenizer().encode("axb") == [4])
    }

    @Test func wholeWordTokensSkipMergesForLlama3() throws {
        // Llama 3 emits a word that is itself a token directly; the merges would give "a", "bc".
        #expect(try Self.tokenizer(pre: "llama-bpe").encode("abc") == [5])
    }

    @Test func decodeMapsByteCharactersBack() throws {
        let t = try Self.tokenizer()
        #expect(t.decode([0, 8, 3, 4]) == "abc ab")
        #expect(t.tokenBytes(7) == Array(" ab".utf8))
    }

    @Test func userDefinedTokensAlwaysMatchControlTokensOnlyWhenParsed() throws {
        let t = try Self.tokenizer()
        #expect(t.encode("a<usr>b") == [0, 12, 1])
        #expect(!t.encode("a<ctl>b").contains(11))
        #expect(t.encode("a<ctl>b", parseSpecial: true) == [0, 11, 1])
        #expect(t.decode([0, 11, 1]) == "a<ctl>b")
        #expect(t.decode([0, 11, 1], skipSpecial: true) == "ab")
    }
}
