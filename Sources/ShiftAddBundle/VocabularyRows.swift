import CShiftKernels
import ShiftAddModel

/// How a bundle stores its vocabulary matrices (the token embedding, and the output head when it
/// is not tied to it). `i8-rows-v1`: in the form the engine's int8 head runs, rows rotated by a
/// randomized block Walsh–Hadamard transform and quantized to int8 with one scale per row
/// (`sa_i8_head`). `bcq-planes-v1`: the output head as binary planes with power-of-two scales,
/// stored exactly like a projection under the name `head.name` ("output"); a tied embedding reads
/// its rows from those planes, an untied one keeps int8 rows.
public struct BundleVocabularyStorage: Codable, Sendable, Equatable {
    /// Layout id of the head.
    public var format: String
    /// Seed of the rotation signs of the int8 rows, which the engine also applies to each hidden
    /// state they multiply.
    public var rotationSeed: UInt64
    /// The head's planes (name, bits, shape) with `bcq-planes-v1`; nil with `i8-rows-v1`.
    public var head: BundleLayer?

    public static let int8RowsV1 = "i8-rows-v1"
    public static let bcqPlanesV1 = "bcq-planes-v1"
    /// Base name of the head's planes tensors.
    public static let planesHeadName = "output"

    public init(format: String = Self.int8RowsV1, rotationSeed: UInt64 = 0x6865_6164, head: BundleLayer? = nil) {
        self.format = format
        self.rotationSeed = rotationSeed
        self.head = head
    }

    /// Storage with the head as `bits` planes of a [vocab][dim] matrix.
    public static func planes(bits: Int, vocab: Int, dim: Int) -> Self {
        .init(format: bcqPlanesV1, head: BundleLayer(name: planesHeadName, bits: bits, rows: vocab, cols: dim, hasOffset: true))
    }

    /// Whether vocabulary matrix `name` (`token_embd.weight` or `output.weight`) is stored as int8
    /// rows; otherwise it is read from the head's planes.
    public func storesRows(_ name: String, tied: Bool) -> Bool {
        head == nil || (name == TensorName.tokenEmbedding && !tied)
    }
}

/// One vocabulary matrix read back from a bundle: `name` holds [rows][cols] int8 values and
/// `name.row_scale` [rows] fp32 scales. The one reader of that layout; `addVocabularyRows` writes it.
public struct BundleVocabularyRows {
    public let name: String
    public let rows: Int
    public let cols: Int
    public let seed: UInt64
    /// The int8 values in the bundle's memory.
    public let values: UnsafeBufferPointer<Int8>
    public let scales: [Float]

    static func scaleName(_ name: String) -> String { name + ".row_scale" }

    public init(bundle: WeightBundle, name: String, rows: Int, cols: Int) throws {
        let storage = bundle.manifest.vocabulary
        try BundleVocabularyPlanes.checkFormat(bundle)
        guard storage.storesRows(name, tied: bundle.manifest.config.tiedEmbeddings) else {
            throw BundleError.tensorInvalid(file: bundle.path, tensor: name, reason: "stored as the head's planes, not as int8 rows")
        }
        values = try bundle.bytes(name, dtype: .i8, shape: [rows, cols]).bindMemory(to: Int8.self)
        scales = try bundle.floats(Self.scaleName(name), shape: [rows])
        self.name = name
        self.rows = rows
        self.cols = cols
        seed = storage.rotationSeed
    }

    /// A kernel head holding these rows. The caller frees it with `sa_i8_head_free`. Fails (with
    /// the file named) on a row value of -128 or a scale that is negative or not finite.
    public func makeHead(file: String) throws -> OpaquePointer {
        var err: Int32 = 0
        guard let head = sa_i8_head_create(Int32(rows), Int32(cols), seed, &err) else {
            throw BundleError.tensorInvalid(file: file, tensor: name, reason: "\(rows)×\(cols) int8 head (kernel error \(err))")
        }
        let status = scales.withUnsafeBufferPointer { sa_i8_head_load(head, values.baseAddress, $0.baseAddress, 0, Int32(rows)) }
        guard status == SA_OK.rawValue else {
            sa_i8_head_free(head)
            throw BundleError.tensorInvalid(file: file, tensor: name, reason: "a row value of -128 or a scale that is negative or not finite")
        }
        return head
    }

    /// The rows as the engine runs them, dequantized and rotated back: [rows][cols] fp32.
    public func dequantized(file: String) throws -> [Float] {
        let head = try makeHead(file: file)
        defer { sa_i8_head_free(head) }
        var out = [Float](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { _ = sa_i8_head_row(head, Int32(r), o.baseAddress! + r * cols) }
        }
        return out
    }
}

extension BundleWriter {
    /// Stores vocabulary matrix `name` ([rows][cols] fp32, rounded to fp16 first as the engine's
    /// head always was) in the layout `BundleVocabularyRows` reads.
    public mutating func addVocabularyRows(_ name: String, _ weights: [Float], rows: Int, cols: Int) throws {
        var err: Int32 = 0
        guard let head = sa_i8_head_create(Int32(rows), Int32(cols), manifest.vocabulary.rotationSeed, &err) else {
            throw BundleError.writeFailed(file: name, reason: "\(rows)×\(cols) int8 rows (kernel error \(err))")
        }
        defer { sa_i8_head_free(head) }
        let halves = weights.map { sa_float_to_half($0) }
        guard sa_i8_head_quantize(head, halves, 0, Int32(rows)) == SA_OK.rawValue else {
            throw BundleError.writeFailed(file: name, reason: "a weight is NaN or infinite")
        }
        var values = [Int8](repeating: 0, count: rows * cols)
        var scales = [Float](repeating: 0, count: rows)
        _ = sa_i8_head_export(head, &values, &scales, 0, Int32(rows))
        add(name, dtype: .i8, shape: [rows, cols], bytes: values.map { UInt8(bitPattern: $0) })
        add(BundleVocabularyRows.scaleName(name), f32: scales, shape: [rows])
    }
}

/// The output head stored as binary planes (`bcq-planes-v1`), read back from a bundle: its
/// `BundleProjection` (quantized in the rotated basis of input width dim, like a projection) and
/// that rotation's signs. Row r of the matrix is the dequantized planes row rotated back.
public struct BundleVocabularyPlanes: Sendable {
    public let projection: BundleProjection
    let rotation: BundleQuantization.Rotation
    /// `rotation`'s signs for width dim, kept for `row`.
    let signs: [Float]?

    static func checkFormat(_ bundle: WeightBundle) throws {
        let storage = bundle.manifest.vocabulary
        let known = [BundleVocabularyStorage.int8RowsV1, BundleVocabularyStorage.bcqPlanesV1]
        guard known.contains(storage.format), (storage.format == BundleVocabularyStorage.bcqPlanesV1) == (storage.head != nil) else {
            throw BundleError.tensorInvalid(
                file: bundle.path, tensor: "vocabulary",
                reason: "layout '\(storage.format)' \(storage.head == nil ? "without" : "with") a head entry; expected \(known[0]) without one or \(known[1]) with one")
        }
    }

    /// The head's planes, or nil when the bundle stores int8 rows.
    public init?(bundle: WeightBundle) throws {
        try Self.checkFormat(bundle)
        guard let info = bundle.manifest.vocabulary.head else { return nil }
        let c = bundle.manifest.config
        guard info.rows == c.vocabSize, info.cols == c.dim else {
            throw BundleError.tensorInvalid(file: bundle.path, tensor: info.name, reason: "head \(info.rows)×\(info.cols), expected \(c.vocabSize)×\(c.dim)")
        }
        projection = try BundleProjection(bundle: bundle, layer: info)
        rotation = bundle.manifest.quantization.rotation
        signs = rotation.signs(width: info.cols)
        if signs != nil, rotation.block <= 0 || info.cols % rotation.block != 0 {
            throw BundleError.tensorInvalid(file: bundle.path, tensor: info.name, reason: "rotation block \(rotation.block) for width \(info.cols)")
        }
    }

    public var rows: Int { projection.rows }
    public var cols: Int { projection.cols }

    /// Row `row` as the engine runs it: dequantized from the planes and rotated back, `cols`
    /// values written to `out`.
    public func row(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        projection.linear.dequantizeRow(row, into: out)
        if let signs { _ = sa_rht_inverse(out, 1, cols, rotation.block, signs) }
    }

    /// The whole matrix, [rows][cols] fp32, rotated back.
    public func dequantized(file: String) throws -> [Float] {
        try projection.dequantized(undoing: rotation, file: file)
    }
}
