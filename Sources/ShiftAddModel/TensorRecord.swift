import CShiftKernels

/// Storage type of a checkpoint tensor (GGUF numbering).
public enum TensorType: Int, Codable, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, iq4_NL = 20, iq4_XS = 23, bf16 = 30

    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .iq4_NL: "IQ4_NL"
        case .iq4_XS: "IQ4_XS"
        }
    }

    public var blockElements: Int { sa_type_block_elements(Int32(rawValue)) }
    public var blockBytes: Int { sa_type_block_bytes(Int32(rawValue)) }

    /// Bytes needed for `count` elements, or nil if `count` is not a whole number of blocks.
    public func byteCount(elements count: Int) -> Int? {
        guard count % blockElements == 0 else { return nil }
        let (bytes, overflow) = (count / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}

/// One tensor of a checkpoint: where its bytes are in a mapped file and how to decode them.
/// `shape` lists the outermost dimension first, so a linear layer is [outputs, inputs] and its
/// rows are contiguous.
public struct TensorRecord: Sendable {
    public let name: String
    public let shape: [Int]
    public let type: TensorType
    public let file: MappedFile
    public let offset: Int
    public let byteCount: Int
    /// Added to every value as it is decoded (Gemma's norms from Hugging Face: stored w, used 1 + w).
    public let added: Float

    public init(name: String, shape: [Int], type: TensorType, file: MappedFile, offset: Int, added: Float = 0) throws {
        let invalid = ModelError.malformed(file: file.path, reason: "tensor '\(name)' of type \(type.name) has invalid shape \(shape)")
        // Dimensions come from the file: their product may not fit an Int.
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard d > 0, !overflow else { throw invalid }
            elements = product
        }
        guard let bytes = type.byteCount(elements: elements) else { throw invalid }
        _ = try file.bytes(at: offset, count: bytes, what: "tensor '\(name)'")
        self.name = name
        self.shape = shape
        self.type = type
        self.file = file
        self.offset = offset
        self.byteCount = bytes
        self.added = added
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// Decodes the tensor into fp32.
    public func floats() -> [Float] {
        [Float](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            decode(into: buffer.baseAddress!)
            initialized = elementCount
        }
    }

    /// Decodes the tensor into `destination`, which must hold `elementCount` floats.
    public func decode(into destination: UnsafeMutablePointer<Float>) {
        // The constructor checked type, shape and bounds, so decoding cannot fail.
        let status = sa_dequantize(Int32(type.rawValue), file.base + offset, destination, elementCount)
        precondition(status == 0, "dequantize \(name)")
        if added != 0 {
            for i in 0..<elementCount { destination[i] += added }
        }
    }
}
