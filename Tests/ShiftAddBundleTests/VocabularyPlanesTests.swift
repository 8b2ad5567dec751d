import CShiftKernels
import Foundation
import ShiftAddBundle
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// The output head stored as planes (`bcq-planes-v1`): written like a projection under "output",
/// read back with the same planes and scales, and its rows rotated back with the width's signs.
@Suite struct VocabularyPlanesTests {
    static let vocab = 37, dim = 128, bits = 3

    static func manifest(head: BundleLayer?, format: String = BundleVocabularyStorage.bcqPlanesV1) -> BundleManifest {
        let config = ModelConfig(architecture: "llama", vocabSize: vocab, dim: dim, hiddenDim: 256, layerCount: 1, headCount: 2,
                                 kvHeadCount: 1, contextLength: 32, ropeTheta: 10000, ropeStyle: .interleaved,
                                 rmsNormEpsilon: 1e-5, tiedEmbeddings: true)
        let quantization = BundleQuantization(groupSize: 64, apotTerms: 3, rotation: .init(kind: "hadamard", block: 64, seed: 7),
                                              planeLayout: BundleQuantization.bcqPlanesV1, scaleCode: BundleQuantization.apotV1, layers: [])
        return BundleManifest(config: config, tokenizer: nil, chatTemplate: nil, metadata: [:], quantization: quantization,
                              vocabulary: .init(format: format, head: head),
                              provenance: .init(sourceFile: "m.gguf", sourceSHA256: "00", converterVersion: "1", options: [:]))
    }

    static func head() throws -> QuantizedLinear {
        var rng = TestRandom(seed: 12)
        let w = (0..<(vocab * dim)).map { i in Float(rng.normal()) * (i % dim == 3 ? 20 : 1) * 0.05 }
        return try TinyQuantizedBundle.binarize(w, rows: vocab, cols: dim, bits: bits)
    }

    static func write(_ manifest: BundleManifest, _ linear: QuantizedLinear) throws -> WeightBundle {
        var writer = BundleWriter(manifest: manifest)
        writer.addHeadPlanes(linear, scales: try EncodedScales(encoding: linear, terms: 3))
        let path = temporaryPath("head-planes.sabundle")
        try writer.write(to: path)
        let bundle = try WeightBundle(path: path)
        #expect(bundle.manifest == writer.manifest)
        return bundle
    }

    @Test func planesHeadRoundTripsAndRowsRotateBack() throws {
        let linear = try Self.head()
        let storage = BundleVocabularyStorage.planes(bits: Self.bits, vocab: Self.vocab, dim: Self.dim)
        let bundle = try Self.write(Self.manifest(head: storage.head), linear)
        #expect(bundle.manifest.vocabulary == storage)
        #expect(bundle.manifest.tensors.map(\.name) == ["output.planes", "output.scale_base", "output.alpha_codes", "output.beta_codes"])
        let planes = try #require(try BundleVocabularyPlanes(bundle: bundle))
        #expect(planes.projection.planes == linear.planes)
        #expect(planes.projection.alpha == linear.alpha)
        #expect(planes.projection.beta == linear.beta)

        // Row r is the dequantized row rotated back by the width's signs (R is orthonormal, so the
        // row's norm is kept).
        var expected = linear.dequantized()
        let signs = try #require(bundle.manifest.quantization.rotation.signs(width: Self.dim))
        #expect(sa_rht_inverse(&expected, Self.vocab, Self.dim, 64, signs) == 0)
        #expect(try planes.dequantized(file: bundle.path).map(\.bitPattern) == expected.map(\.bitPattern))
        let rotated = linear.dequantized()
        var row = [Float](repeating: 0, count: Self.dim)
        for r in [0, 17, Self.vocab - 1] {
            planes.row(r, into: &row)
            #expect(row.map(\.bitPattern) == expected[(r * Self.dim)..<((r + 1) * Self.dim)].map(\.bitPattern))
            let norm = { (v: ArraySlice<Float>) in v.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot() }
            #expect(abs(norm(row[...]) - norm(rotated[(r * Self.dim)..<((r + 1) * Self.dim)])) <= 1e-5 * norm(row[...]))
            #expect(row != Array(rotated[(r * Self.dim)..<((r + 1) * Self.dim)]))
        }
        // A tied embedding has no int8 rows of its own in this layout.
        #expect(throws: BundleError.self) {
            try BundleVocabularyRows(bundle: bundle, name: TensorName.tokenEmbedding, rows: Self.vocab, cols: Self.dim)
        }
    }

    @Test func int8RowsBundlesHaveNoPlanesHead() throws {
        let bundle = try VocabularyRowsTests.bundle(VocabularyRowsTests.weights(seed: 2))
        #expect(try BundleVocabularyPlanes(bundle: bundle) == nil)
    }

    @Test func aLayoutWithoutItsHeadIsRefused() throws {
        let linear = try Self.head()
        let head = BundleVocabularyStorage.planes(bits: Self.bits, vocab: Self.vocab, dim: Self.dim).head
        // Planes described under the int8 layout's name, then the planes layout without its head.
        let mislabelled = try Self.write(Self.manifest(head: head, format: BundleVocabularyStorage.int8RowsV1), linear)
        #expect(throws: BundleError.self) { try BundleVocabularyPlanes(bundle: mislabelled) }
        var writer = BundleWriter(manifest: Self.manifest(head: nil))
        writer.add("x", f32: [1], shape: [1])
        let path = temporaryPath("head-missing.sabundle")
        try writer.write(to: path)
        let bundle = try WeightBundle(path: path)
        #expect(throws: BundleError.self) { try BundleVocabularyPlanes(bundle: bundle) }
        #expect(throws: BundleError.self) {
            try BundleVocabularyRows(bundle: bundle, name: TensorName.tokenEmbedding, rows: Self.vocab, cols: Self.dim)
        }
    }

    @Test func projectionBytesCountTheStoredHead() throws {
        let linear = try Self.head()
        let storage = BundleVocabularyStorage.planes(bits: Self.bits, vocab: Self.vocab, dim: Self.dim)
        let bundle = try Self.write(Self.manifest(head: storage.head), linear)
        #expect(bundle.manifest.dataSize == BundleWriter.projectionBytes(rows: Self.vocab, cols: Self.dim, bits: Self.bits, groupSize: 64, apotTerms: 3))
    }
}
