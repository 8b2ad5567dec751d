/// Bounds-checked little-endian reads over a mapped GGUF file; every read past the end throws a
/// truncation error that says what was being read.
struct GGUFCursor {
    let file: MappedFile
    var offset: Int

    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard count >= 0, offset <= file.count, count <= file.count - offset else {
            throw ModelError.truncated(file: file.path, what: what(), needed: offset &+ count, available: file.count)
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(start: file.base + offset, count: count)
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let b = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: b.loadUnaligned(as: T.self))
    }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let length = try read(UInt64.self, what())
        guard length <= UInt64(file.count - offset) else {
            throw ModelError.truncated(file: file.path, what: what(), needed: file.count + 1, available: file.count)
        }
        return String(decoding: try take(Int(length), what()), as: UTF8.self)
    }

    mutating func value(kind raw: UInt32, _ what: @autoclosure () -> String, depth: Int = 0) throws -> GGUFValue {
        guard let kind = GGUFValue.Kind(rawValue: raw) else {
            throw ModelError.malformed(file: file.path, reason: "\(what()): unknown value type \(raw)")
        }
        switch kind {
        case .uint8: return .unsigned(UInt64(try read(UInt8.self, what())))
        case .int8: return .signed(Int64(try read(Int8.self, what())))
        case .uint16: return .unsigned(UInt64(try read(UInt16.self, what())))
        case .int16: return .signed(Int64(try read(Int16.self, what())))
        case .uint32: return .unsigned(UInt64(try read(UInt32.self, what())))
        case .int32: return .signed(Int64(try read(Int32.self, what())))
        case .uint64: return .unsigned(try read(UInt64.self, what()))
        case .int64: return .signed(try read(Int64.self, what()))
        case .float32: return .float(Double(Float(bitPattern: try read(UInt32.self, what()))))
        case .float64: return .float(Double(bitPattern: try read(UInt64.self, what())))
        case .bool:
            let b = try read(UInt8.self, what())
            guard b <= 1 else { throw ModelError.malformed(file: file.path, reason: "\(what()): bool value \(b)") }
            return .bool(b == 1)
        case .string: return .string(try string(what()))
        case .array:
            guard depth < 4 else { throw ModelError.malformed(file: file.path, reason: "\(what()): arrays nested too deeply") }
            let elementKind = try read(UInt32.self, what())
            let count = try read(UInt64.self, what())
            // Every element takes at least one byte, so a count beyond the remaining bytes is corrupt;
            // checking first keeps a forged count from driving a huge allocation.
            guard count <= UInt64(file.count - offset) else {
                throw ModelError.truncated(file: file.path, what: what(), needed: file.count + 1, available: file.count)
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { items.append(try value(kind: elementKind, what(), depth: depth + 1)) }
            return .array(items)
        }
    }
}
