import Foundation
import ShiftAddBundle
import ShiftAddModel
import ShiftAddTokenizer

/// Lays a converted model out as a bundle (Docs/bundle-format.md): fp16 embedding and head, fp32
/// norms and biases, and per projection its bit planes, row base exponents and packed scale codes.
struct BundleAssembler {
    static let converterVersion = "0.1.0"
    static let planeLayout = "bcq-planes-v1"
    static let scaleCode = "apot-v1"

    let source: ModelDescription
    let options: ConversionOptions
    let tokenizer: Tokenizer

    func assemble(layers: [QuantizedProjection], reports: [Converter.LayerReport]) throws -> BundleWriter {
        let c = source.config
        let quantization = BundleQuantization(
            groupSize: options.groupSize, apotTerms: options.apotTerms,
            rotation: options.rotation,
            planeLayout: Self.planeLayout, scaleCode: Self.scaleCode,
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

        writer.add(TensorName.tokenEmbedding, f16: try source.floats(TensorName.tokenEmbedding, shape: [c.vocabSize, c.dim]),
                   shape: [c.vocabSize, c.dim])
        if !c.tiedEmbeddings {
            writer.add(TensorName.output, f16: try source.floats(TensorName.output, shape: [c.vocabSize, c.dim]),
                       shape: [c.vocabSize, c.dim])
        }
        writer.add(TensorName.outputNorm, f32: try source.floats(TensorName.outputNorm, shape: [c.dim]), shape: [c.dim])
        for l in 0..<c.layerCount {
            writer.add(TensorName.attentionNorm(l), f32: try source.floats(TensorName.attentionNorm(l), shape: [c.dim]), shape: [c.dim])
            writer.add(TensorName.ffnNorm(l), f32: try source.floats(TensorName.ffnNorm(l), shape: [c.dim]), shape: [c.dim])
            if c.attentionBias {
                for p in [TensorName.Projection.q, .k, .v] {
                    let n = ModelDescription.projectionShape(p, config: c)[0]
                    writer.add(TensorName.bias(p, layer: l), f32: try source.floats(TensorName.bias(p, layer: l), shape: [n]), shape: [n])
                }
            }
        }
        for q in layers { add(q, to: &writer) }
        return writer
    }

    private func add(_ q: QuantizedProjection, to writer: inout BundleWriter) {
        let l = q.linear
        let base = "blk.\(q.layer).\(q.projection.rawValue)"
        writer.add(base + ".planes", u64: l.planes, shape: [l.bits, l.rows, l.wordsPerRow])
        writer.add(base + ".scale_base", dtype: .i8, shape: [l.rows], bytes: q.scales.rowBase.map { UInt8(bitPattern: $0) })
        let alphaWidth = APoTCode.alphaCodeBits(terms: q.scales.terms)
        let betaWidth = APoTCode.betaCodeBits(terms: q.scales.terms)
        let alpha = CodePacking.pack(q.scales.alphaCodes, width: alphaWidth)
        let beta = CodePacking.pack(q.scales.betaCodes, width: betaWidth)
        writer.add(base + ".alpha_codes", u64: alpha, shape: [alpha.count])
        writer.add(base + ".beta_codes", u64: beta, shape: [beta.count])
    }
}
