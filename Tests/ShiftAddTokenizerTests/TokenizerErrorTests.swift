import ShiftAddTokenizer
import Testing

@Suite struct TokenizerErrorTests {
    static func byteLevel(pre: String? = "gpt2", merges: [String]? = ["a b"], bos: Int? = nil) -> TokenizerSpec {
        TokenizerSpec(model: .byteLevelBPE, preTokenizer: pre, tokens: ["a", "b", "ab"], merges: merges, bosTokenId: bos)
    }

    @Test func unknownPreTokenizerIsNamed() throws {
        let error = #expect(throws: TokenizerError.self) { try Tokenizer(spec: Self.byteLevel(pre: "mystery-pre")) }
        #expect(error == .unknownPreTokenizer("mystery-pre"))
        #expect(error?.description.contains("'mystery-pre'") == true)
    }

    @Test func knownPreTokenizersAreAccepted() throws {
        for name in ["gpt2", "gpt-2", "smollm", "starcoder", "refact", "llama-bpe", "llama3", "qwen2"] {
            #expect(try Tokenizer(spec: Self.byteLevel(pre: name)).encode("ab") == [2])
        }
        #expect(try Tokenizer(spec: Self.byteLevel(pre: nil)).encode("ab") == [2])
    }

    @Test func badMergesAreReported() {
        #expect(throws: TokenizerError.missingMerges) { try Tokenizer(spec: Self.byteLevel(merges: nil)) }
        #expect(throws: TokenizerError.malformedMerge(index: 1, merge: "ab")) {
            try Tokenizer(spec: Self.byteLevel(merges: ["a b", "ab"]))
        }
        #expect(throws: TokenizerError.mergeTokenNotInVocabulary(index: 0, merge: "a z", token: "z")) {
            try Tokenizer(spec: Self.byteLevel(merges: ["a z"]))
        }
        #expect(throws: TokenizerError.mergeTokenNotInVocabulary(index: 0, merge: "b a", token: "ba")) {
            try Tokenizer(spec: Self.byteLevel(merges: ["b a"]))
        }
    }

    @Test func inconsistentSpecsAreReported() {
        #expect(throws: TokenizerError.tokenIdOutOfRange(role: "BOS", id: 3, vocabularySize: 3)) {
            try Tokenizer(spec: Self.byteLevel(bos: 3))
        }
        #expect(throws: TokenizerError.emptyVocabulary) {
            try Tokenizer(spec: TokenizerSpec(model: .byteLevelBPE, tokens: [], merges: []))
        }
        #expect(throws: TokenizerError.missingScores) {
            try Tokenizer(spec: TokenizerSpec(model: .sentencePiece, tokens: ["a"]))
        }
        #expect(throws: TokenizerError.countMismatch(field: "scores", expected: 2, found: 1)) {
            try Tokenizer(spec: TokenizerSpec(model: .sentencePiece, tokens: ["a", "b"], scores: [0]))
        }
        #expect(throws: TokenizerError.countMismatch(field: "token types", expected: 2, found: 1)) {
            try Tokenizer(spec: TokenizerSpec(model: .sentencePiece, tokens: ["a", "b"], scores: [0, 0], tokenTypes: [.normal]))
        }
    }
}
