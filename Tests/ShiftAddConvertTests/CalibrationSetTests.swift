import ShiftAddConvert
import ShiftAddEngine
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
}
