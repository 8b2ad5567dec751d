import ShiftAddBundle
import ShiftAddModel

/// A bundle made from `GGUFBuilder.tinyModelForConversion` without the converter: every
/// projection binarized greedily (offset, then one plane at a time on the residual) with scales
/// rounded to the APoT grid. The weights are declared to be in the rotated basis when `rotate` is set, which makes
/// them a different but equally valid model; both engines must then undo the same rotation. With
/// `headBits` below 8 the output head (the embedding when tied) is binarized the same way and stored
/// as planes.
public enum TinyQuantizedBundle {
    public static let groupSize = 64
    public static let apotTerms = 3

    public static func make(bits: Int = 3, rotate: Bool = true, tied: Bool = true, headBits: Int = 8, seed: UInt64 = 1) throws -> WeightBundle {
        try make(from: GGUFBuilder.tinyModelForConversion(tied: tied, seed: seed), bits: bits, rotate: rotate, headBits: headBits, seed: seed)
    }

    /// The same construction from any tiny LLaMA the builder describes (another context length,
    /// vocabulary or norm, say).
    public static func make(from builder: GGUFBuilder, bits: Int = 3, rotate: Bool = true, headBits: Int = 8, seed: UInt64 = 1) throws -> WeightBundle {
        let source = temporaryPath("tiny.gguf")
        try builder.write(to: source)
        let model = try GGUFReader.read(path: source)
        let c = model.config
        var layers: [BundleLayer] = []
        var quantized: [(String, QuantizedLinear, EncodedScales)] = []
        for l in 0..<c.layerCount {
            for p in TensorName.Projection.allCases {
                let shape = ModelDescription.projectionShape(p, config: c)
                let w = try model.floats(TensorName.weight(p, layer: l), shape: shape)
                let linear = try binarize(w, rows: shape[0], cols: shape[1], bits: bits)
                let name = "blk.\(l).\(p.rawValue)"
                layers.append(BundleLayer(name: name, bits: bits, rows: shape[0], cols: shape[1], hasOffset: true))
                quantized.append((name, linear, try EncodedScales(encoding: linear, terms: apotTerms)))
            }
        }
        let quantization = BundleQuantization(
            groupSize: groupSize, apotTerms: apotTerms,
            rotation: .init(kind: rotate ? "hadamard" : "none", block: 64, seed: seed &+ 11),
            planeLayout: BundleQuantization.bcqPlanesV1, scaleCode: BundleQuantization.apotV1, layers: layers)
        let vocabulary: BundleVocabularyStorage = headBits == 8 ? .init() : .planes(bits: headBits, vocab: c.vocabSize, dim: c.dim)
        var writer = BundleWriter(manifest: BundleManifest(
            config: c, tokenizer: model.tokenizer, chatTemplate: nil, metadata: [:], quantization: quantization,
            vocabulary: vocabulary, provenance: .init(sourceFile: "tiny.gguf", sourceSHA256: "", converterVersion: "test", options: [:])))
        try writer.addDenseTensors(from: model)
        for (name, linear, scales) in quantized { writer.addProjection(name, linear, scales: scales) }
        if headBits != 8 {
            let w = try model.floats(c.tiedEmbeddings ? TensorName.tokenEmbedding : TensorName.output, shape: [c.vocabSize, c.dim])
            let linear = try binarize(w, rows: c.vocabSize, cols: c.dim, bits: headBits)
            writer.addHeadPlanes(linear, scales: try EncodedScales(encoding: linear, terms: apotTerms))
        }
        let path = temporaryPath("tiny.sabundle")
        try writer.write(to: path)
        return try WeightBundle(path: path)
    }

    /// Greedy residual binary coding with APoT-rounded scales (alpha ≥ 0, so the bit is the sign).
    public static func binarize(_ w: [Float], rows: Int, cols: Int, bits: Int) throws -> QuantizedLinear {
        let grid = APoTGrid.forTerms(apotTerms)
        let groups = (cols + groupSize - 1) / groupSize
        let words = (cols + 63) / 64
        var planes = [UInt64](repeating: 0, count: bits * rows * words)
        var alpha = [Float](repeating: 0, count: rows * groups * bits)
        var beta = [Float](repeating: 0, count: rows * groups)
        for r in 0..<rows {
            let row = Array(w[(r * cols)..<((r + 1) * cols)])
            let base = APoTGrid.rowBase(maxMagnitude: row.map(abs).max()!)
            for g in 0..<groups {
                let range = (g * groupSize)..<min(cols, (g + 1) * groupSize)
                let mean = range.reduce(0.0) { $0 + Double(row[$1]) } / Double(range.count)
                let offset = grid.round(mean, base: base)
                beta[r * groups + g] = offset
                var residual = range.map { row[$0] - offset }
                for p in 0..<bits {
                    let a = grid.round(residual.reduce(0.0) { $0 + Double(abs($1)) } / Double(residual.count), base: base)
                    alpha[(r * groups + g) * bits + p] = a
                    for (i, c) in range.enumerated() {
                        let positive = residual[i] >= 0
                        if positive { planes[(p * rows + r) * words + c / 64] |= 1 << UInt64(c % 64) }
                        residual[i] -= positive ? a : -a
                    }
                }
            }
        }
        return try QuantizedLinear(rows: rows, cols: cols, groupSize: groupSize, bits: bits, planes: planes, alpha: alpha, beta: beta)
    }
}
