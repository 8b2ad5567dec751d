import ShiftAddBundle
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// Manifests found by fuzzing the bundle reader (Tests/Fuzz, target `bundle`), kept as tests. Each
/// trapped the process while reading a projection (a division by zero or an arithmetic overflow);
/// each must be refused with an error naming the projection.
@Suite struct FuzzRegressionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        var groupSize = 64
        var apotTerms = 2
        var bits = 2
        var rows = 4
        var cols = 64
        var testDescription: String { label }
    }

    static let cases = [
        Case(label: "group size 0", groupSize: 0),
        Case(label: "negative group size", groupSize: -1),
        Case(label: "40 APoT terms", apotTerms: 40),
        Case(label: "Int.max columns", cols: .max),
        Case(label: "Int.max rows", rows: .max),
        Case(label: "no bits", bits: 0),
        Case(label: "negative columns", cols: -5),
    ]

    @Test(arguments: cases)
    func projectionWithOutOfRangeNumbersIsRefused(_ c: Case) throws {
        let config = ModelConfig(architecture: "llama", vocabSize: 8, dim: 64, hiddenDim: 128, layerCount: 1, headCount: 2,
                                 kvHeadCount: 1, contextLength: 32, ropeTheta: 10000, ropeStyle: .interleaved,
                                 rmsNormEpsilon: 1e-5, tiedEmbeddings: true)
        let layer = BundleLayer(name: "blk.0.attn_q", bits: c.bits, rows: c.rows, cols: c.cols, hasOffset: true)
        let quantization = BundleQuantization(groupSize: c.groupSize, apotTerms: c.apotTerms,
                                              rotation: .init(kind: "none", block: 0, seed: 0),
                                              planeLayout: "bcq-planes-v1", scaleCode: "apot-v1", layers: [layer])
        let manifest = BundleManifest(config: config, tokenizer: nil, chatTemplate: nil, metadata: [:],
                                      quantization: quantization,
                                      provenance: .init(sourceFile: "m.gguf", sourceSHA256: "00", converterVersion: "1", options: [:]))
        var writer = BundleWriter(manifest: manifest)
        writer.add("blk.0.attn_q.planes", u64: [UInt64](repeating: 0, count: 8), shape: [2, 4, 1])
        let path = temporaryPath("fuzz-regression.sabundle")
        try writer.write(to: path)
        let bundle = try WeightBundle(path: path)
        let reason = "\(c.bits) bits, \(c.rows)×\(c.cols), group size \(c.groupSize), \(c.apotTerms) APoT terms"
        #expect(throws: BundleError.tensorInvalid(file: path, tensor: "blk.0.attn_q", reason: reason)) {
            try BundleProjection(bundle: bundle, layer: 0, projection: .q)
        }
    }
}
