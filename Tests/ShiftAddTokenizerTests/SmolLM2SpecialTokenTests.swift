import ShiftAddTokenizer
import Testing

@Suite struct SmolLM2SpecialTokenTests {
    @Test func vocabularyFacts() throws {
        let tokenizer = try smolLM2Tokenizer()
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosTokenId == 1)
        #expect(tokenizer.eosTokenId == 2)
        // <|im_end|> is EOS; <|endoftext|> also ends generation.
        #expect(tokenizer.endOfGenerationIds == [0, 2])
        #expect(tokenizer.tokenId(for: "<|im_start|>") == 1)
        #expect(tokenizer.tokenId(for: "Ġthe") == 260)
        #expect(tokenizer.tokenText(260) == "Ġthe")
        #expect(tokenizer.tokenId(for: "no such token") == nil)
        #expect(tokenizer.isSpecial(1) && !tokenizer.isSpecial(260))
    }

    @Test func parseSpecialSplitsChatMarkers() throws {
        let tokenizer = try smolLM2Tokenizer()
        let text = "<|im_start|>user\nhi<|im_end|>"
        // user, "\n", hi between the two control tokens.
        #expect(tokenizer.encode(text, parseSpecial: true) == [1, 4093, 198, 6004, 2])
        let spelled = tokenizer.encode(text)
        #expect(!spelled.contains(1) && !spelled.contains(2))
        #expect(spelled.count > 5)
        #expect(tokenizer.decode(spelled) == text)
    }

    @Test func specialTokensInDecodeAndStreaming() throws {
        let tokenizer = try smolLM2Tokenizer()
        let ids = tokenizer.encode("<|im_start|>assistant\nHi!<|im_end|>", parseSpecial: true)
        #expect(tokenizer.decode(ids) == "<|im_start|>assistant\nHi!<|im_end|>")
        #expect(tokenizer.decode(ids, skipSpecial: true) == "assistant\nHi!")
        #expect(tokenizer.tokenBytes(2).isEmpty)
        #expect(tokenizer.tokenBytes(2, renderSpecial: true) == Array("<|im_end|>".utf8))
        #expect(tokenizer.tokenBytes(-1).isEmpty && tokenizer.tokenBytes(49152).isEmpty)
        #expect(tokenizer.decode([-5, 260, 1_000_000]) == " the")
    }

    @Test func addSpecialFollowsTheVocabulary() throws {
        let tokenizer = try smolLM2Tokenizer()
        // SmolLM2's GGUF asks for neither BOS nor EOS.
        #expect(tokenizer.encode("Hello", addSpecial: true) == tokenizer.encode("Hello", addSpecial: false))
        #expect(tokenizer.encode("").isEmpty)
    }

    @Test func splitsCharactersAcrossTokensForStreaming() throws {
        let tokenizer = try smolLM2Tokenizer()
        let text = "👨‍👩‍👧‍👦"
        let ids = tokenizer.encode(text)
        // The emoji's bytes span several tokens, some of which are not valid UTF-8 on their own.
        #expect(ids.contains { String(validating: tokenizer.tokenBytes($0), as: UTF8.self) == nil })
        #expect(ids.flatMap { tokenizer.tokenBytes($0) } == Array(text.utf8))
    }
}
