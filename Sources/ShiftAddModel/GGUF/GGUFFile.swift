/// The raw content of a GGUF file (v2 or v3): metadata, tensor records and alignment.
/// `GGUFReader` turns it into a `ModelDescription`.
public struct GGUFFile: Sendable {
    public let file: MappedFile
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Tensors in file order, with canonical (GGUF) names.
    public let tensors: [TensorRecord]
    public let alignment: Int

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        var c = GGUFCursor(file: file, offset: 0)
        let magic = try c.take(4, "magic")
        guard Array(magic) == Array("GGUF".utf8) else {
            throw ModelError.badMagic(file: path, found: magic.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        }
        let version = Int(try c.read(UInt32.self, "version"))
        guard version == 2 || version == 3 else { throw ModelError.unsupportedVersion(file: path, version: version) }
        self.version = version
        let tensorCount = try c.read(UInt64.self, "tensor count")
        let kvCount = try c.read(UInt64.self, "metadata count")
        // Each entry needs several bytes; counts beyond the file size are corrupt, not merely large.
        guard tensorCount <= UInt64(file.count), kvCount <= UInt64(file.count) else {
            throw ModelError.malformed(file: path, reason: "tensor count \(tensorCount) or metadata count \(kvCount) exceeds the file size")
        }

        var metadata: [String: GGUFValue] = [:]
        for i in 0..<Int(kvCount) {
            let key = try c.string("metadata key \(i)")
            let kind = try c.read(UInt32.self, "type of metadata '\(key)'")
            metadata[key] = try c.value(kind: kind, "metadata '\(key)'")
        }
        self.metadata = metadata

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
                throw ModelError.malformed(file: path, reason: "general.alignment must be a power of two, got \(a)")
            }
            alignment = v
        }
        self.alignment = alignment

        struct Info { let name: String; let shape: [Int]; let type: UInt32; let offset: UInt64 }
        var infos: [Info] = []
        for i in 0..<Int(tensorCount) {
            let name = try c.string("name of tensor \(i)")
            let dims = try c.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard dims >= 1, dims <= 4 else {
                throw ModelError.malformed(file: path, reason: "tensor '\(name)' has \(dims) dimensions")
            }
            var ne: [Int] = []
            for d in 0..<Int(dims) {
                let n = try c.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard n > 0, n <= UInt64(Int32.max) else {
                    throw ModelError.malformed(file: path, reason: "tensor '\(name)' has dimension \(n)")
                }
                ne.append(Int(n))
            }
            let type = try c.read(UInt32.self, "type of tensor '\(name)'")
            let offset = try c.read(UInt64.self, "offset of tensor '\(name)'")
            // GGUF lists the fastest-varying dimension first; records list the outermost first.
            infos.append(Info(name: name, shape: ne.reversed(), type: type, offset: offset))
        }
        let dataStart = (c.offset + alignment - 1) / alignment * alignment

        var tensors: [TensorRecord] = []
        tensors.reserveCapacity(infos.count)
        for info in infos {
            guard let type = TensorType(rawValue: Int(info.type)) else {
                throw ModelError.unsupportedTensorType(file: path, tensor: info.name, type: Self.typeName(info.type))
            }
            guard info.offset % UInt64(alignment) == 0, info.offset <= UInt64(file.count) else {
                throw ModelError.malformed(file: path, reason: "tensor '\(info.name)' has offset \(info.offset)")
            }
            guard info.shape.last! % type.blockElements == 0 else {
                throw ModelError.malformed(file: path, reason: "tensor '\(info.name)' row of \(info.shape.last!) is not a whole number of \(type.name) blocks")
            }
            tensors.append(try TensorRecord(name: info.name, shape: info.shape, type: type, file: file,
                                            offset: dataStart + Int(info.offset)))
        }
        self.tensors = tensors
    }

    /// Names of GGML types this reader knows of but cannot decode, for error messages.
    static func typeName(_ raw: UInt32) -> String {
        let names: [UInt32: String] = [9: "Q8_1", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
                                       19: "IQ1_S", 21: "IQ3_S", 22: "IQ2_S", 24: "I8", 25: "I16", 26: "I32",
                                       27: "I64", 28: "F64", 29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0",
                                       39: "MXFP4", 40: "NVFP4"]
        return names[raw].map { "\($0) (\(raw))" } ?? "unknown type \(raw)"
    }
}
