import Foundation
import ShiftAddBundle
import ShiftAddConvert
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// The converter on a tiny Gemma 3: the same layer-wise pipeline as LLaMA's, fed by the family's
/// block recipe, storing the family's own norms.
@Suite struct Gemma3ConversionTests {
    /// Widths that are multiples of the rotation block, a window shorter than the calibration
    /// sequences.
    static func source() throws -> ModelDescription {
        let path = temporaryPath("tiny-gemma3.gguf")
        try GGUFBuilder.tinyGemma3(dim: 64, hidden: 128, heads: 4, kvHeads: 1, headDim: 16, window: 8).write(to: path)
        return try GGUFReader.read(path: path)
    }

    static func bundle(_ source: ModelDescription, bits: Int, objective: ConversionOptions.Objective = .output) throws -> WeightBundle {
        var o = TinyConversion.options(bits: .uniform(bits))
        o.objective = objective
        // 512 calibration tokens: with fewer, fitting outputs overfits the widest inputs (128).
        o.samples = 16
        o.sequenceLength = 32
        let path = temporaryPath("tiny-gemma3.sabundle")
        try TinyConversion.convert(source, o).0.write(to: path)
        return try WeightBundle(path: path)
    }

    @Test func keepsTheConfigurationAndEveryNorm() throws {
        let source = try Self.source()
        let bundle = try Self.bundle(source, bits: 3)
        let c = source.config
        #expect(bundle.manifest.config == c)
        for (name, shape) in c.family.tensorTable(c) where shape.count == 1 {
            #expect(try bundle.floats(name, shape: shape) == source.floats(name, shape: shape), "\(name)")
        }
    }

    /// The BOS, then tokens the source model finds likely (its first, second or third choice in
    /// turn), twenty in all: text like the calibration's, past the window of 8.
    static func likelyTokens(_ reference: ReferenceModel) -> [Int] {
        let vocab = reference.config.vocabSize
        var tokens = [1, 3]
        while tokens.count < 20 {
            let last = reference.logits(tokens: tokens).suffix(vocab)
            let ranked = last.indices.sorted { last[$0] > last[$1] }
            tokens.append(ranked[tokens.count % 3] - last.startIndex)
        }
        return tokens
    }

    /// The largest KL(source ‖ converted) over the positions of `tokens`.
    static func worstKL(_ source: ModelDescription, _ bundle: WeightBundle, _ tokens: [Int]) throws -> Double {
        let vocab = source.config.vocabSize
        let want = try ReferenceModel(source).logits(tokens: tokens)
        let got = try ReferenceModel(BundleWeights(bundle: bundle)).logits(tokens: tokens)
        return (0..<tokens.count).map { p in
            kl(Array(want[(p * vocab)..<((p + 1) * vocab)]), Array(got[(p * vocab)..<((p + 1) * vocab)]))
        }.max()!
    }

    /// At 4 bits the converted model's next-token distributions stay close to the source's.
    @Test func fourBitsStayCloseToTheSource() throws {
        let source = try Self.source()
        let tokens = Self.likelyTokens(try ReferenceModel(source))
        let worst = try Self.worstKL(source, try Self.bundle(source, bits: 4), tokens)
        #expect(worst < 0.05, "largest KL \(worst)")
    }

    /// The calibration reaches every projection through the Gemma block: at 2 bits, fitting each
    /// projection's outputs on it beats fitting its weights alone.
    @Test func calibratedOutputsBeatWeightsAtTwoBits() throws {
        let source = try Self.source()
        let tokens = Self.likelyTokens(try ReferenceModel(source))
        let output = try Self.worstKL(source, try Self.bundle(source, bits: 2), tokens)
        let weight = try Self.worstKL(source, try Self.bundle(source, bits: 2, objective: .weight), tokens)
        #expect(output < 0.75 * weight, "output objective \(output), weight objective \(weight)")
    }

    static func kl(_ p: [Float], _ q: [Float]) -> Double {
        func logSoftmax(_ l: [Float]) -> [Double] {
            let m = Double(l.max()!)
            let z = l.reduce(0.0) { $0 + exp(Double($1) - m) }
            return l.map { Double($0) - m - log(z) }
        }
        let lp = logSoftmax(p), lq = logSoftmax(q)
        return zip(lp, lq).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
    }
}
