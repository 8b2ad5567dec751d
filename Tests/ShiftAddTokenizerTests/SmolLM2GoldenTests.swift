import ShiftAddTokenizer
import Testing

@Suite struct SmolLM2GoldenTests {
    @Test func goldenFileIsSubstantial() throws {
        let golden = try GoldenEncodings.load()
        #expect(golden.cases.count >= 300)
        #expect(golden.specialCases.count >= 20)
    }

    @Test func encodesLikeHuggingFace() throws {
        let tokenizer = try smolLM2Tokenizer()
        for c in try GoldenEncodings.load().cases {
            #expect(tokenizer.encode(c.text) == c.ids, "text: \(c.text.debugDescription)")
        }
    }

    @Test func parsesControlTokensLikeHuggingFace() throws {
        let tokenizer = try smolLM2Tokenizer()
        for c in try GoldenEncodings.load().specialCases {
            #expect(tokenizer.encode(c.text, parseSpecial: true) == c.ids, "text: \(c.text.debugDescription)")
        }
    }

    @Test func decodeInvertsEncode() throws {
        let tokenizer = try smolLM2Tokenizer()
        for c in try GoldenEncodings.load().cases {
            #expect(tokenizer.decode(c.ids) == c.text)
            #expect(tokenizer.decode(tokenizer.encode(c.text)) == c.text)
        }
    }

    @Test func tokenBytesAssembleTheUTF8OfTheText() throws {
        let tokenizer = try smolLM2Tokenizer()
        for c in try GoldenEncodings.load().cases {
            let bytes = c.ids.flatMap { tokenizer.tokenBytes($0) }
            #expect(bytes == Array(c.text.utf8), "text: \(c.text.debugDescription)")
        }
    }
}
