import Foundation
import ShiftAddBundle
import ShiftAddModel
import ShiftAddTokenizer

/// Lays a converted model out as a bundle (Docs/bundle-format.md): int8 embedding and head (or a
/// planes head), fp32 norms and biases, and per projection its bit planes, row base exponents and
/// packed scale codes.
struct BundleAssembler {
    static let converterVersion = "0.2.0"

    let source: ModelDescription
    let options: ConversionOptions

    /// A writer holding everything but the projections: the manifest (tokenizer, chat template,
    /// provenance, quantization settings) and the dense tensors.
    func makeWriter() throws -> BundleWriter {
        let quantization = BundleQuantization(
            groupSize: options.groupSize, apotTerms: options.apotTerms,
            rotation: options.rotation,
            planeLayout: BundleQuantization.bcqPlanesV1, scaleCode: BundleQuantization.apotV1, layers: [])
        let provenance = BundleProvenance(sourceFile: URL(fileURLWithPath: source.path).lastPathComponent,
                                          sourceSHA256: try SourceDigest.sha256(path: source.path),
                                          converterVersion: Self.converterVersion, options: options.recorded)
        let c = source.config
        let vocabulary: BundleVocabularyStorage = options.headPlanes
            ? .planes(bits: options.headBits, vocab: c.vocabSize, dim: c.dim) : .init()
        var writer = BundleWriter(manifest: BundleManifest(
            config: c, tokenizer: source.tokenizer, chatTemplate: source.chatTemplate, metadata: source.metadata,
            quantization: quantization, vocabulary: vocabulary, provenance: provenance))
        try writer.addDenseTensors(from: source)
        return writer
    }

    /// Adds the converted projections to a writer from `makeWriter`.
    static func addProjections(_ layers: [QuantizedProjection], reports: [Converter.LayerReport], to writer: inout BundleWriter) {
        for (q, r) in zip(layers, reports) {
            let name = "blk.\(q.layer).\(q.projection.rawValue)"
            writer.manifest.quantization.layers.append(BundleLayer(
                name: name, bits: q.linear.bits, rows: q.linear.rows, cols: q.linear.cols, hasOffset: true,
                effect: r.effect, sensitivity: r.sensitivity))
            writer.addProjection(name, q.linear, scales: q.scales)
        }
    }
}
