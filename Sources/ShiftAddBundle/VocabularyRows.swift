import CShiftKernels
import ShiftAddModel

/// How a bundle stores its vocabulary matrices (the token embedding, and the output head when it
/// is not tied to it): in the form the engine's head runs, rows rotated by a randomized block
/// Walsh–Hadamard transform and quantized to int8 with one scale per row (`sa_i8_head`).
public struct BundleVocabularyStorage: Codable, Sendable, Equatable {
    /// Layout id of the stored rows.
    public var format: String
    /// Seed of the rotation signs of the rows, which the engine also applies to each hidden state.
    public var rotationSeed: UInt64

    public static let int8RowsV1 = "i8-rows-v1"

    public init(format: String = Self.int8RowsV1, rotationSeed: UInt64 = 0x6865_6164) {
        self.format = format
        self.rotationSeed = rotationSeed
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
        guard storage.format == BundleVocabularyStorage.int8RowsV1 else {
            throw BundleError.tensorInvalid(file: bundle.path, tensor: name, reason: "vocabulary layout '\(storage.format)' is not \(BundleVocabularyStorage.int8RowsV1)")
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
