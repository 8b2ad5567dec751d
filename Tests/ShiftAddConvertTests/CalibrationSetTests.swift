import Foundation
import ShiftAddConvert
import ShiftAddEngine
import ShiftAddTestSupport
import ShiftAddTokenizer
import Testing

@Suite struct CalibrationSetTests {
    @Test func selfGeneratedSequencesOpenChatTurns() throws {
        let source = try TinyConversion.source()
        let tokenizer = try Tokenizer(spec: source.tokenizer!)
        let model = try ReferenceModel(source)
        let template = "{% for m in messages %}<{{ m.role }}> {{ m.content }}\n{% endfor %}"
        let opening = try #require(CalibrationSet.chatOpening(template: template, tokenizer: tokenizer))
        #expect(opening == tokenizer.encode("<user> ", addSpecial: true, parseSpecial: true))
        #expect(CalibrationSet.chatOpening(template: "{% if %}", tokenizer: tokenizer) == nil)

        let sampling = CalibrationSet.Sampling(chatShare: 0.5, temperatures: [0.5, 1.5])
        let set = CalibrationSet.sampled(from: model, tokenizer: tokenizer, count: 4, length: 24, seed: 2,
                                         sampling: sampling, chatOpening: opening) { _, _ in }
        #expect(set.sequences.count == 4 && set.sequences.allSatisfy { $0.count == 24 })
        #expect(set.sequences.prefix(2).allSatisfy { Array($0.prefix(opening.count)) == opening })
        #expect(set.sequences.suffix(2).allSatisfy { Array($0.prefix(opening.count)) != opening })
    }

    /// A tokenizer that puts a BOS before every text (Gemma's) has it before every calibration
    /// sequence, sampled or cut from a text; one that puts nothing (the tiny LLaMA's) has none.
    @Test(arguments: [false, true]) func sequencesStartAsServedTextsDo(gemma: Bool) throws {
        let source = try gemma ? Gemma3ConversionTests.source() : TinyConversion.source()
        let tokenizer = try Tokenizer(spec: source.tokenizer!)
        let opening = tokenizer.encode("", addSpecial: true)
        #expect(opening == (gemma ? [tokenizer.bosTokenId!] : []))
        let sampled = CalibrationSet.sampled(from: try ReferenceModel(source), tokenizer: tokenizer, count: 3, length: 8,
                                             seed: 2) { _, _ in }
        let text = temporaryPath("calibration.txt")
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 20).write(toFile: text, atomically: true, encoding: .utf8)
        let cut = try CalibrationSet.fromText(path: text, tokenizer: tokenizer, count: 3, length: 8, seed: 2)
        for set in [sampled, cut] {
            #expect(set.sequences.allSatisfy { $0.count == 8 && Array($0.prefix(opening.count)) == opening && !$0.dropFirst(opening.count).contains(tokenizer.bosTokenId ?? -1) })
        }
    }
}
