import Foundation
import ShiftAddBundle
import ShiftAddModel
import ShiftAddTokenizer

/// Lays a converted model out as a bundle (Docs/bundle-format.md): fp16 embedding and head, fp32
/// norms and biases, and per projection its bit planes, row base exponents and packed scale codes.
struct BundleAssembler {
    static let converterVersion = "0.1.0"

    let source: ModelDescription
    let options: ConversionOptions
    let tokenizer: Tokenizer

    func assemble(layers: [QuantizedProjection], reports: [Converter.LayerReport]) throws -> BundleWriter {
        let c = source.config
        let quantization = BundleQuantization(
            groupSize: options.groupSize, apotTerms: options.apotTerms,
            rotation: options.rotation,
            planeLayout: BundleQuantization.bcqPlanesV1, scaleCode: BundleQuantization.apotV1,
            layers: zip(layers, reports).map { q, r in
                BundleLayer(name: "blk.\(q.layer).\(q.projection.rawValue)", bits: q.linear.bits, rows: q.linear.rows,
                            cols: q.linear.cols, hasOffset: true, sensitivity: r.sensitivity)
            })
        let provenance = BundleProvenance(sourceFile: URL(fileURLWithPath: source.path).lastPathComponent,
                                          sourceSHA256: try SourceDigest.sha256(path: source.path),
                                          converterVersion: Self.converterVersion, options: options.recorded)
        var writer = BundleWriter(manifest: BundleManifest(
            config: c, tokenizer: source.tokenizer, chatTemplate: source.chatTemplate, metadata: source.metadata,
            quantization: quantization, provenance: provenance))

        try writer.addDenseTensors(from: source)
        for q in layers { writer.addProjection("blk.\(q.layer).\(q.projection.rawValue)", q.linear, scales: q.scales) }
        return writer
    }
}
