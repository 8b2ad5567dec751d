import Foundation
import ShiftAddTokenizer
import Testing

/// llama.cpp's SentencePiece tokenization on a Gemma-shaped vocabulary small enough to commit
/// (Scripts/make_tokenizer_golden.py --golden sentencepiece): control tokens, user-defined newline,
/// space and tab runs, byte fallback, tied scores, no space prefix, BOS added. The end-to-end check on
/// Gemma 3's own vocabulary is `make tokenizer-agreement MODEL=gemma3-270m`.
@Suite struct SentencePieceGoldenTests {
    struct Golden: Decodable {
        let vocabulary: TokenizerSpec
        /// Encoded as plain text, without BOS.
        let cases: [GoldenEncodings.Case]
        /// Encoded with control-token texts parsed as tokens.
        let specialCases: [GoldenEncodings.Case]
        /// Encoded with the BOS the vocabulary asks for.
        let bosCase: GoldenEncodings.Case
    }

    static func load() throws -> (Golden, Tokenizer) {
        guard let url = Bundle.module.url(forResource: "sentencepiece_encode", withExtension: "json", subdirectory: "Golden") else {
            throw FixtureError("Golden/sentencepiece_encode.json is missing from the test bundle")
        }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        return (golden, try Tokenizer(spec: golden.vocabulary))
    }

    @Test func goldenFileCoversGemmasRules() throws {
        let (golden, _) = try Self.load()
        let spec = golden.vocabulary
        #expect(golden.cases.count >= 80)
        #expect(golden.specialCases.count >= 15)
        #expect(spec.model == .sentencePiece && !spec.addSpacePrefix && spec.addBosToken)
        let types = try #require(spec.tokenTypes)
        #expect(types.filter { $0 == .byte }.count == 256)
        #expect(types.contains(.userDefined) && types.contains(.control))
        let scores = try #require(spec.scores)
        #expect(Set(scores).count < scores.count, "tied scores exercise the leftmost-first rule")
    }

    @Test func encodesLikeLlamaCpp() throws {
        let (golden, tokenizer) = try Self.load()
        for c in golden.cases {
            #expect(tokenizer.encode(c.text, addSpecial: false) == c.ids, "text: \(c.text.debugDescription)")
        }
    }

    @Test func parsesControlTokensLikeLlamaCpp() throws {
        let (golden, tokenizer) = try Self.load()
        for c in golden.specialCases {
            #expect(tokenizer.encode(c.text, addSpecial: false, parseSpecial: true) == c.ids,
                    "text: \(c.text.debugDescription)")
        }
    }

    @Test func addsBOSWithoutASpacePrefix() throws {
        let (golden, tokenizer) = try Self.load()
        #expect(tokenizer.encode(golden.bosCase.text) == golden.bosCase.ids)
        #expect(golden.bosCase.ids.first == golden.vocabulary.bosTokenId)
    }

    @Test func decodeGivesTheTextBack() throws {
        let (golden, tokenizer) = try Self.load()
        for c in golden.cases + golden.specialCases {
            #expect(tokenizer.decode(c.ids) == c.text, "text: \(c.text.debugDescription)")
        }
        for c in golden.cases {
            let bytes = c.ids.flatMap { tokenizer.tokenBytes($0, renderSpecial: true) }
            #expect(bytes == Array(c.text.utf8), "text: \(c.text.debugDescription)")
        }
    }
}
