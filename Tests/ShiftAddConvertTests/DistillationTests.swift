import Foundation
import ShiftAddBundle
import ShiftAddConvert
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// End-to-end distillation of the scales on a tiny model.
@Suite struct DistillationTests {
    /// Four sequences per step, all of the tiny calibration set: every step sees the same batch, so
    /// the losses it reports are of one function.
    static func options(terms: Int = 3) -> ConversionOptions {
        var o = TinyConversion.options(bits: .uniform(2), apotTerms: terms)
        o.distillSteps = 12
        o.distillSequencesPerStep = 4
        o.distillRate = 0.002
        return o
    }

    /// On a tiny LLaMA, and on a tiny Gemma 3 with its sequences longer than its window.
    @Test(arguments: [false, true]) func distillationLowersTheKLItMinimizes(gemma: Bool) throws {
        let source = try gemma ? Gemma3ConversionTests.source() : TinyConversion.source()
        let converter = try Converter(source: source, options: Self.options())
        _ = try converter.convert { _ in }
        let report = try #require(converter.distillation)
        #expect(report.steps.count == 12)
        #expect(abs(report.steps[0] - report.before) <= 1e-6 * report.before, "\(report)")
        #expect(report.trained < 0.8 * report.before, "\(report)")
        #expect(report.rounded < report.before, "\(report)")
        #expect(report.steps.suffix(3).allSatisfy { $0 < report.steps[0] }, "\(report.steps)")
    }

    @Test(arguments: [1, 2, 3])
    func distilledScalesAreSumsOfAtMostTermsPowersOfTwo(terms: Int) throws {
        let bundle = try TinyConversion.bundle(try TinyConversion.source(), Self.options(terms: terms))
        for l in 0..<2 {
            for p in TensorName.Projection.allCases {
                let projection = try BundleProjection(bundle: bundle, layer: l, projection: p)
                #expect(projection.alpha.allSatisfy { $0 >= 0 })
                #expect((projection.alpha + projection.beta).allSatisfy { signedPowerOfTwoTerms($0) <= terms })
            }
        }
    }

    @Test func distilledConversionIsByteDeterministic() throws {
        let source = try TinyConversion.source()
        let first = try TinyConversion.convert(source, Self.options()).0.serialized()
        #expect(first == (try TinyConversion.convert(source, Self.options()).0.serialized()))
        #expect(first != (try TinyConversion.convert(source, TinyConversion.options(bits: .uniform(2))).0.serialized()))
    }

    /// A rate far too high makes the first batch's KL worse: the layer-wise scales are kept, so the
    /// projections are those of a conversion without distillation.
    @Test func aDistillationWithoutGainKeepsTheLayerWiseScales() throws {
        let source = try TinyConversion.source()
        var o = Self.options()
        o.distillRate = 1
        let converter = try Converter(source: source, options: o)
        let distilled = try converter.convert { _ in }
        let report = try #require(converter.distillation)
        #expect(!report.kept && report.rounded >= report.before, "\(report)")
        var plain = Self.options()
        plain.distillSteps = 0
        let path = temporaryPath("distilled.sabundle"), plainPath = temporaryPath("plain.sabundle")
        try distilled.write(to: path)
        try TinyConversion.convert(source, plain).0.write(to: plainPath)
        let (a, b) = (BundleWeights(bundle: try WeightBundle(path: path)), BundleWeights(bundle: try WeightBundle(path: plainPath)))
        let c = source.config
        for l in 0..<c.layerCount {
            for p in TensorName.Projection.allCases {
                let name = TensorName.weight(p, layer: l), shape = ModelDescription.projectionShape(p, config: c)
                #expect(try a.floats(name, shape: shape) == b.floats(name, shape: shape), "\(name)")
            }
        }
    }
}
