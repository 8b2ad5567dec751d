import CShiftKernels
import ShiftAddModel

/// One reparameterized projection read back from a bundle: its bit planes and its scales decoded
/// from their codes, in the canonical layout of `QuantizedLinear`.
public struct BundleProjection: Sendable {
    public let name: String
    public let linear: QuantizedLinear

    public var rows: Int { linear.rows }
    public var cols: Int { linear.cols }
    public var bits: Int { linear.bits }
    public var groupSize: Int { linear.groupSize }
    public var planes: [UInt64] { linear.planes }
    public var alpha: [Float] { linear.alpha }
    public var beta: [Float] { linear.beta }

    public init(bundle: WeightBundle, layer: Int, projection: TensorName.Projection) throws {
        let base = "blk.\(layer).\(projection.rawValue)"
        guard let info = bundle.manifest.quantization.layers.first(where: { $0.name == base }) else {
            throw BundleError.missingTensor(file: bundle.path, tensor: base)
        }
        try self.init(bundle: bundle, layer: info)
    }

    /// The projection `info` describes (its tensors are named after `info.name`), stored with the
    /// bundle's group size, scale code and rotation.
    public init(bundle: WeightBundle, layer info: BundleLayer) throws {
        let base = info.name
        let q = bundle.manifest.quantization
        // The manifest comes from the file: bound every number before it enters arithmetic.
        guard QuantizedLinear.groupSizeRange.contains(q.groupSize), APoTCode.termsRange.contains(q.apotTerms),
              QuantizedLinear.bitsRange.contains(info.bits), (1...Int(Int32.max)).contains(info.rows),
              (1...Int(Int32.max)).contains(info.cols) else {
            throw BundleError.tensorInvalid(
                file: bundle.path, tensor: base,
                reason: "\(info.bits) bits, \(info.rows)×\(info.cols), group size \(q.groupSize), \(q.apotTerms) APoT terms")
        }
        let groups = (info.cols + q.groupSize - 1) / q.groupSize
        let planes = try bundle.u64(base + ".planes", shape: [info.bits, info.rows, (info.cols + 63) / 64])
        let rowBase = try bundle.bytes(base + ".scale_base", dtype: .i8, shape: [info.rows]).map { Int8(bitPattern: $0) }
        func codes(_ suffix: String, count: Int, width: Int) throws -> [UInt16] {
            let words = CodePacking.wordCount(codes: count, width: width)
            let raw = try bundle.bytes(base + suffix, dtype: .u64, shape: [words])
            return CodePacking.unpack(raw.bindMemory(to: UInt64.self), count: count, width: width)
        }
        do {
            let scales = try EncodedScales(
                terms: q.apotTerms, rowBase: rowBase,
                alphaCodes: try codes(".alpha_codes", count: info.rows * groups * info.bits, width: APoTCode.alphaCodeBits(terms: q.apotTerms)),
                betaCodes: try codes(".beta_codes", count: info.rows * groups, width: APoTCode.betaCodeBits(terms: q.apotTerms)))
            linear = try QuantizedLinear(rows: info.rows, cols: info.cols, groupSize: q.groupSize, bits: info.bits,
                                         planes: planes, alpha: scales.alphaValues(), beta: scales.betaValues())
        } catch let error as QuantizationError {
            throw BundleError.tensorInvalid(file: bundle.path, tensor: base, reason: "\(error)")
        }
        name = base
    }

    /// The deployed weights in the bundle's (possibly rotated) input basis, [rows][cols].
    public func dequantized() -> [Float] { linear.dequantized() }

    /// The deployed weights in the original input basis, [rows][cols]: dequantized, then
    /// `rotation` undone. Throws (naming `file`) when the rotation's block does not fit the width.
    public func dequantized(undoing rotation: BundleQuantization.Rotation, file: String) throws -> [Float] {
        var w = dequantized()
        if let signs = rotation.signs(width: cols) {
            guard sa_rht_inverse(&w, rows, cols, rotation.block, signs) == 0 else {
                throw BundleError.tensorInvalid(file: file, tensor: name, reason: "rotation block \(rotation.block)")
            }
        }
        return w
    }
}
