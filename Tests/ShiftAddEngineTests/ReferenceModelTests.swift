import Foundation
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTestSupport
import Testing

@Suite struct ReferenceModelTests {
    static func tinyModel(tied: Bool = true) throws -> ModelDescription {
        let path = temporaryPath("tiny.gguf")
        try GGUFBuilder.tinyModel(tied: tied).write(to: path)
        return try GGUFReader.read(path: path)
    }

    @Test(arguments: [true, false])
    func matchesNaiveDoublePrecisionTransformer(tied: Bool) throws {
        let model = try Self.tinyModel(tied: tied)
        let engine = try ReferenceModel(model)
        let tokens = [3, 17, 5, 39, 0, 22, 8]
        let got = engine.logits(tokens: tokens)
        let want = NaiveTransformer(c: model.config, model: model).logits(tokens)
        var worst: Double = 0
        for (p, row) in want.enumerated() {
            for (v, x) in row.enumerated() { worst = max(worst, abs(Double(got[p * model.config.vocabSize + v]) - x)) }
        }
        #expect(worst < 1e-4, "max abs difference \(worst)")
    }

    @Test func incrementalDecodeEqualsFullSequence() throws {
        let model = try Self.tinyModel()
        let engine = try ReferenceModel(model)
        let tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let full = engine.logits(tokens: tokens)
        let cache = engine.makeCache(capacity: 16)
        var rows = engine.forward([(Array(tokens[0..<4]), cache)], allLogits: true)
        for t in tokens[4...] { rows += engine.forward([([t], cache)], allLogits: true) }
        #expect(cache.count == tokens.count)
        let diff = zip(full, rows).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-5, "max abs difference \(diff)")
    }

    @Test func batchedSequencesEqualSeparateOnes() throws {
        let model = try Self.tinyModel()
        let engine = try ReferenceModel(model)
        let sequences = [[4, 8, 15], [16, 23], [42 % 40, 1, 2, 3, 5]]
        let caches = sequences.map { engine.makeCache(capacity: $0.count + 1) }
        let batched = engine.forward(Array(zip(sequences, caches)), allLogits: false)
        let vocab = model.config.vocabSize
        for (i, s) in sequences.enumerated() {
            let alone = engine.logits(tokens: s)
            let last = Array(alone[((s.count - 1) * vocab)..<(s.count * vocab)])
            let row = Array(batched[(i * vocab)..<((i + 1) * vocab)])
            #expect(zip(last, row).map { abs($0 - $1) }.max()! < 1e-5)
        }
    }

    /// A decoding step of many sequences (one token each: their attention runs on several threads)
    /// gives each sequence the logits it gets decoded alone (up to the summation order of a batched
    /// sgemm against a single row's sgemv).
    @Test func batchedDecodeStepEqualsSequencesAlone() throws {
        let model = try Self.tinyModel()
        let engine = try ReferenceModel(model)
        let prompts = [[4, 8, 15], [16, 23], [1, 2, 3, 5], [7], [9, 9, 9, 9, 9], [11, 13]]
        let next = [3, 1, 4, 1, 5, 9]
        let caches = prompts.map { engine.makeCache(capacity: $0.count + 1) }
        for (p, cache) in zip(prompts, caches) { _ = engine.forward([(p, cache)], allLogits: false) }
        let batched = engine.forward(Array(zip(next.map { [$0] }, caches)), allLogits: false)
        let vocab = model.config.vocabSize
        for (i, p) in prompts.enumerated() {
            let alone = engine.makeCache(capacity: p.count + 1)
            _ = engine.forward([(p, alone)], allLogits: false)
            let row = engine.forward([([next[i]], alone)], allLogits: false)
            let diff = zip(batched[(i * vocab)..<((i + 1) * vocab)], row).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-5, "sequence \(i): max abs difference \(diff)")
        }
    }

    @Test func greedyDefaultModelSaysParis() throws {
        let model = try GGUFReader.read(path: try defaultModelPath())
        let engine = try ReferenceModel(model)
        // "The capital of France is" in SmolLM2's vocabulary.
        let prompt = [504, 3575, 282, 4649, 314]
        let logits = engine.logits(tokens: prompt)
        let last = Array(logits[((prompt.count - 1) * model.config.vocabSize)...])
        let best = last.withUnsafeBufferPointer { LogitKernels.argmax($0) }
        #expect(model.tokenizer?.tokens[best] == "ĠParis")
    }
}
