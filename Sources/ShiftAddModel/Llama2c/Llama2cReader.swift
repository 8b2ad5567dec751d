import Foundation

/// Reads llama2.c's legacy checkpoint: seven little-endian int32 hyper-parameters, then every
/// weight as fp32, each kind stacked over the layers. Per-layer tensors are slices of the mapped
/// file. The weights keep the original LLaMA (interleaved) rotary layout.
public enum Llama2cReader {
    static let headerBytes = 7 * 4

    /// `tokenizerPath` nil looks for tokenizer.bin, then tok*.bin, beside the model; the tokenizer
    /// is optional only when neither exists.
    public static func read(path: String, tokenizerPath: String?) throws -> ModelDescription {
        let file = try MappedFile(path: path)
        let header = try file.bytes(at: 0, count: headerBytes, what: "header")
        let field = (0..<7).map { Int(Int32(littleEndian: header.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        let (dim, hiddenDim, layers, heads, kvHeads, signedVocab, seqLen) =
            (field[0], field[1], field[2], field[3], field[4], field[5], field[6])
        guard heads > 0, dim % heads == 0 else {
            throw ModelError.invalidConfig(file: path, reason: "dim \(dim) is not a positive multiple of head count \(heads)")
        }
        // A negative vocabulary size marks a classifier stored after the other weights.
        let config = ModelConfig(architecture: "llama", vocabSize: abs(signedVocab), dim: dim, hiddenDim: hiddenDim,
                                 layerCount: layers, headCount: heads, kvHeadCount: kvHeads, contextLength: seqLen,
                                 ropeTheta: 10000, ropeStyle: .interleaved, rmsNormEpsilon: 1e-5,
                                 tiedEmbeddings: signedVocab > 0)
        try config.validate(source: path)

        let layout = try Llama2cLayout(config: config, file: path)
        guard file.count == layout.fileSize else {
            let what = "\(layout.fileSize - headerBytes) bytes of fp32 weights for dim \(dim), hidden dim \(hiddenDim), "
                + "\(layers) layers, vocab \(config.vocabSize), seq len \(seqLen)"
                + (config.tiedEmbeddings ? "" : " and a separate classifier")
            if file.count < layout.fileSize {
                throw ModelError.truncated(file: path, what: what, needed: layout.fileSize, available: file.count)
            }
            throw ModelError.malformed(file: path, reason: "\(file.count - layout.fileSize) trailing bytes after the "
                                       + "\(layout.fileSize) bytes the header implies (\(what))")
        }
        var tensors: [String: TensorRecord] = [:]
        for (name, shape, offset) in layout.tensors {
            tensors[name] = try TensorRecord(name: name, shape: shape, type: .f32, file: file, offset: offset)
        }

        let tokenizerFile = try tokenizerPath ?? Llama2cTokenizer.locate(besideModel: path, vocabSize: config.vocabSize)
        let tokenizer = try tokenizerFile.map { try Llama2cTokenizer.read(path: $0, vocabSize: config.vocabSize) }
        let name = (path as NSString).lastPathComponent
        let model = ModelDescription(path: path, format: .llama2c, config: config, tensors: tensors,
                                     tokenizer: tokenizer, chatTemplate: nil,
                                     metadata: ["general.name": (name as NSString).deletingPathExtension])
        try model.validateTensors()
        return model
    }
}

/// Byte offsets of every tensor of a llama2.c checkpoint, in file order.
struct Llama2cLayout {
    private(set) var tensors: [(name: String, shape: [Int], offset: Int)] = []
    private(set) var fileSize = Llama2cReader.headerBytes

    init(config c: ModelConfig, file: String) throws {
        func overflow() -> ModelError { .invalidConfig(file: file, reason: "the header's sizes overflow") }
        func product(_ factors: [Int]) throws -> Int {
            try factors.reduce(1) { total, f in
                let (p, o) = total.multipliedReportingOverflow(by: f)
                if o { throw overflow() }
                return p
            }
        }
        // Reserves `count` floats and returns the offset of the first.
        func reserve(_ count: Int) throws -> Int {
            let offset = fileSize
            let (bytes, o1) = count.multipliedReportingOverflow(by: 4)
            let (end, o2) = fileSize.addingReportingOverflow(bytes)
            if o1 || o2 { throw overflow() }
            fileSize = end
            return offset
        }
        // A [layers, shape] block of per-layer tensors named by `name(layer)`.
        func stacked(_ shape: [Int], _ name: (Int) -> String) throws {
            let perLayer = try product(shape)
            let base = try reserve(try product([c.layerCount, perLayer]))
            for l in 0..<c.layerCount { tensors.append((name(l), shape, base + l * perLayer * 4)) }
        }

        tensors.append((TensorName.tokenEmbedding, [c.vocabSize, c.dim], try reserve(product([c.vocabSize, c.dim]))))
        try stacked([c.dim]) { TensorName.attentionNorm($0) }
        for p in [TensorName.Projection.q, .k, .v, .o] {
            try stacked(ModelDescription.projectionShape(p, config: c)) { TensorName.weight(p, layer: $0) }
        }
        try stacked([c.dim]) { TensorName.ffnNorm($0) }
        for p in [TensorName.Projection.gate, .down, .up] {
            try stacked(ModelDescription.projectionShape(p, config: c)) { TensorName.weight(p, layer: $0) }
        }
        tensors.append((TensorName.outputNorm, [c.dim], try reserve(c.dim)))
        // The precomputed rotary tables (real and imaginary parts) are recomputed by the engine.
        _ = try reserve(try product([2, c.contextLength, c.headDim / 2]))
        if !c.tiedEmbeddings {
            tensors.append((TensorName.output, [c.vocabSize, c.dim], try reserve(product([c.vocabSize, c.dim]))))
        }
    }
}
