/// One `.safetensors` file: an 8-byte little-endian header length, a JSON header mapping each tensor
/// name to its dtype, shape and byte range, then the tensor bytes. Opening it checks every entry
/// against the file so that later decoding cannot read out of bounds.
struct SafetensorsFile {
    struct Entry {
        let type: TensorType
        let shape: [Int]
        /// Absolute offset of the first byte in the file.
        let offset: Int
    }

    /// The limit the format's reference implementation puts on the header.
    static let maxHeaderBytes = 100 << 20

    static let types: [String: TensorType] = ["F32": .f32, "F16": .f16, "BF16": .bf16]

    let file: MappedFile
    let entries: [String: Entry]

    init(path: String) throws {
        file = try MappedFile(path: path)
        func malformed(_ reason: String) -> ModelError { .malformed(file: path, reason: reason) }

        let lengthField = try file.bytes(at: 0, count: 8, what: "header length")
        let headerLength = UInt64(littleEndian: lengthField.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw malformed("header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        let header = try file.bytes(at: 8, count: Int(headerLength), what: "JSON header")
        guard case .object(let fields) = try JSONValue.parse(header, file: path) else {
            throw malformed("header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart

        var entries: [String: Entry] = [:]
        var ranges: [(begin: Int, end: Int, name: String)] = []
        for name in fields.keys.sorted() where name != "__metadata__" {
            guard let info = fields[name]?.object else { throw malformed("entry '\(name)' is not an object") }
            guard let dtype = info["dtype"]?.string else { throw malformed("tensor '\(name)' has no dtype") }
            guard let type = Self.types[dtype] else {
                throw ModelError.unsupportedTensorType(file: path, tensor: name, type: dtype)
            }
            guard let dims = info["shape"]?.array else { throw malformed("tensor '\(name)' has no shape") }
            let shape = dims.compactMap(\.int)
            guard shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw malformed("tensor '\(name)' has an invalid shape")
            }
            guard let offsets = info["data_offsets"]?.array, offsets.count == 2,
                  let begin = offsets[0].int, let end = offsets[1].int, begin >= 0, begin <= end else {
                throw malformed("tensor '\(name)' has invalid data_offsets")
            }
            guard let bytes = Self.byteCount(shape: shape, type: type), bytes == end - begin else {
                throw malformed("tensor '\(name)' spans \(end - begin) bytes, but \(dtype) \(shape) needs "
                                + (Self.byteCount(shape: shape, type: type).map(String.init) ?? "more than fits"))
            }
            guard end <= dataSize else {
                throw ModelError.truncated(file: path, what: "tensor '\(name)'", needed: dataStart + end,
                                           available: file.count)
            }
            entries[name] = Entry(type: type, shape: shape, offset: dataStart + begin)
            if begin < end { ranges.append((begin, end, name)) }
        }
        ranges.sort { $0.begin < $1.begin }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.begin < a.end {
            throw malformed("tensors '\(a.name)' and '\(b.name)' overlap (bytes \(a.begin)..<\(a.end) and \(b.begin)..<\(b.end))")
        }
        self.entries = entries
    }

    /// Bytes of a tensor, or nil if the count overflows.
    static func byteCount(shape: [Int], type: TensorType) -> Int? {
        var total = type.blockBytes
        for d in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = product
        }
        return total
    }
}
