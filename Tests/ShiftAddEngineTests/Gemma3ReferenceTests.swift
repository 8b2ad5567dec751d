import Foundation
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// The reference engine on a tiny Gemma 3 (random weights, window 4, layers 0-4 and 6 sliding,
/// layer 5 global) against its equations written out in `NaiveGemma3`.
@Suite struct Gemma3ReferenceTests {
    static func tinyModel(window: Int = 4) throws -> ModelDescription {
        let path = temporaryPath("tiny-gemma3.gguf")
        try GGUFBuilder.tinyGemma3(window: window).write(to: path)
        return try GGUFReader.read(path: path)
    }

    /// Eleven tokens, so most positions see a window of 4 shorter than their prefix.
    static let tokens = [3, 17, 5, 39, 0, 22, 8, 31, 2, 14, 26]

    static func maxDifference(_ got: [Float], _ want: [[Double]], vocab: Int) -> Double {
        var worst: Double = 0
        for (p, row) in want.enumerated() {
            for (v, x) in row.enumerated() { worst = max(worst, abs(Double(got[p * vocab + v]) - x)) }
        }
        return worst
    }

    @Test func matchesNaiveDoublePrecisionGemma3BeyondTheWindow() throws {
        let model = try Self.tinyModel()
        let got = try ReferenceModel(model).logits(tokens: Self.tokens)
        let want = NaiveGemma3(c: model.config, model: model).logits(Self.tokens)
        let worst = Self.maxDifference(got, want, vocab: model.config.vocabSize)
        #expect(worst < 1e-4, "max abs difference \(worst)")
    }

    /// The comparison above is only worth something if the window changes the logits.
    @Test func theWindowChangesTheLogits() throws {
        let windowed = try ReferenceModel(try Self.tinyModel(window: 4)).logits(tokens: Self.tokens)
        let whole = try ReferenceModel(try Self.tinyModel(window: 64)).logits(tokens: Self.tokens)
        let vocab = 40
        let firstFour = zip(windowed.prefix(4 * vocab), whole.prefix(4 * vocab)).map { abs($0 - $1) }.max()!
        let last = zip(windowed.suffix(vocab), whole.suffix(vocab)).map { abs($0 - $1) }.max()!
        #expect(firstFour == 0)
        #expect(last > 1e-2, "last row differs by \(last)")
    }

    @Test func incrementalDecodeEqualsFullSequence() throws {
        let engine = try ReferenceModel(try Self.tinyModel())
        let full = engine.logits(tokens: Self.tokens)
        let cache = engine.makeCache(capacity: 16)
        var rows = engine.forward([(Array(Self.tokens[0..<3]), cache)], allLogits: true)
        for t in Self.tokens[3...] { rows += engine.forward([([t], cache)], allLogits: true) }
        let diff = zip(full, rows).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-5, "max abs difference \(diff)")
    }

    /// Several sequences decoding one token each (the threaded decode path) past the window.
    @Test func batchedDecodeStepEqualsSequencesAlone() throws {
        let model = try Self.tinyModel()
        let engine = try ReferenceModel(model)
        let prompts = [Array(Self.tokens[0..<7]), [16, 23], Array(Self.tokens[2...])]
        let next = [3, 1, 4]
        let caches = prompts.map { engine.makeCache(capacity: $0.count + 1) }
        for (p, cache) in zip(prompts, caches) { _ = engine.forward([(p, cache)], allLogits: false) }
        let batched = engine.forward(Array(zip(next.map { [$0] }, caches)), allLogits: false)
        let vocab = model.config.vocabSize
        for (i, p) in prompts.enumerated() {
            let alone = engine.logits(tokens: p + [next[i]])
            let diff = zip(batched[(i * vocab)..<((i + 1) * vocab)], alone.suffix(vocab)).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-4, "sequence \(i): max abs difference \(diff)")
        }
    }
}
