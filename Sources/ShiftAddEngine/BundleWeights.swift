import ShiftAddBundle
import ShiftAddModel

/// A bundle seen as fp32 weights: each projection (and a planes head) dequantized from its planes
/// and scales and rotated back to the original input basis. This is the bundle's reference path: the same
/// deployed weights as the kernels run, computed exactly by `ReferenceModel`.
public struct BundleWeights: WeightProvider {
    public let bundle: WeightBundle

    public init(bundle: WeightBundle) {
        self.bundle = bundle
    }

    public var config: ModelConfig { bundle.manifest.config }

    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        if name == TensorName.tokenEmbedding || name == TensorName.output {
            if !bundle.manifest.vocabulary.storesRows(name, tied: config.tiedEmbeddings), let planes = try BundleVocabularyPlanes(bundle: bundle) {
                guard [planes.rows, planes.cols] == shape else {
                    throw BundleError.tensorInvalid(file: bundle.path, tensor: name, reason: "shape \([planes.rows, planes.cols]), expected \(shape)")
                }
                return try planes.dequantized(file: bundle.path)
            }
            return try BundleVocabularyRows(bundle: bundle, name: name, rows: shape[0], cols: shape[1]).dequantized(file: bundle.path)
        }
        guard let (layer, projection) = Self.projection(named: name) else { return try bundle.floats(name, shape: shape) }
        let p = try BundleProjection(bundle: bundle, layer: layer, projection: projection)
        guard [p.rows, p.cols] == shape else {
            throw BundleError.tensorInvalid(file: bundle.path, tensor: name, reason: "shape \([p.rows, p.cols]), expected \(shape)")
        }
        return try p.dequantized(undoing: bundle.manifest.quantization.rotation, file: bundle.path)
    }

    /// (layer, projection) of a canonical projection weight name such as `blk.3.attn_q.weight`.
    static func projection(named name: String) -> (Int, TensorName.Projection)? {
        let parts = name.split(separator: ".")
        guard parts.count == 4, parts[0] == "blk", parts[3] == "weight", let layer = Int(parts[1]),
              let p = TensorName.Projection(rawValue: String(parts[2])) else { return nil }
        return (layer, p)
    }
}
