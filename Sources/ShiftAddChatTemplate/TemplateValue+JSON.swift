extension TemplateValue {
    /// Parses JSON text, keeping object keys in their written order (so `tojson` of request `tools`
    /// reproduces them as Python would). Integers that fit `Int` become `.int`, other numbers `.double`;
    /// a repeated key keeps its first position and its last value, like Python's `json.loads`.
    public init(json text: String) throws {
        var reader = JSONReader(bytes: Array(text.utf8))
        reader.skipWhitespace()
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.atEnd else { throw reader.error("unexpected data after the JSON value") }
        self = value
    }
}

private struct JSONReader {
    static let maxDepth = 512

    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset >= bytes.count }

    func error(_ message: String) -> TemplateError {
        TemplateError(kind: .invalidJSON, message: "invalid JSON at byte \(offset): \(message)")
    }

    mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    mutating func consume(_ literal: String) -> Bool {
        let literalBytes = Array(literal.utf8)
        guard bytes.count - offset >= literalBytes.count,
              bytes[offset..<(offset + literalBytes.count)].elementsEqual(literalBytes) else { return false }
        offset += literalBytes.count
        return true
    }

    mutating func readValue(depth: Int) throws -> TemplateValue {
        guard depth < Self.maxDepth else { throw error("nested too deeply") }
        guard !atEnd else { throw error("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try readObject(depth: depth)
        case UInt8(ascii: "["): return try readArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default:
            if consume("true") { return .bool(true) }
            if consume("false") { return .bool(false) }
            if consume("null") { return .none }
            throw error("unexpected character")
        }
    }

    mutating func readObject(depth: Int) throws -> TemplateValue {
        offset += 1
        var entries: [(key: String, value: TemplateValue)] = []
        skipWhitespace()
        if consume("}") { return .dict(entries) }
        while true {
            skipWhitespace()
            guard !atEnd, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try readString()
            skipWhitespace()
            guard consume(":") else { throw error("expected ':'") }
            skipWhitespace()
            let value = try readValue(depth: depth + 1)
            if let existing = entries.firstIndex(where: { $0.key == key }) {
                entries[existing].value = value
            } else {
                entries.append((key, value))
            }
            skipWhitespace()
            if consume("}") { return .dict(entries) }
            guard consume(",") else { throw error("expected ',' or '}'") }
        }
    }

    mutating func readArray(depth: Int) throws -> TemplateValue {
        offset += 1
        var items: [TemplateValue] = []
        skipWhitespace()
        if consume("]") { return .array(items) }
        while true {
            skipWhitespace()
            items.append(try readValue(depth: depth + 1))
            skipWhitespace()
            if consume("]") { return .array(items) }
            guard consume(",") else { throw error("expected ',' or ']'") }
        }
    }

    mutating func readNumber() throws -> TemplateValue {
        let start = offset
        var isInteger = true
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        func digits(_ reader: inout JSONReader) -> Int {
            let begin = reader.offset
            while !reader.atEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(reader.bytes[reader.offset]) {
                reader.offset += 1
            }
            return reader.offset - begin
        }
        let integerDigits = digits(&self)
        guard integerDigits > 0 else { throw error("expected digits") }
        if integerDigits > 1 && bytes[offset - integerDigits] == UInt8(ascii: "0") { throw error("leading zero") }
        if consume(".") {
            isInteger = false
            guard digits(&self) > 0 else { throw error("expected digits after '.'") }
        }
        if !atEnd, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if !atEnd, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits(&self) > 0 else { throw error("expected exponent digits") }
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else { throw error("bad number") }
        return .double(value)
    }

    mutating func readHex4() throws -> UInt32 {
        guard bytes.count - offset >= 4,
              let value = UInt32(String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self), radix: 16) else {
            throw error("bad \\u escape")
        }
        offset += 4
        return value
    }

    mutating func readString() throws -> String {
        offset += 1
        var scalars = String.UnicodeScalarView()
        var runStart = offset
        func flush(_ reader: JSONReader, upTo end: Int) {
            scalars.append(contentsOf: String(decoding: reader.bytes[runStart..<end], as: UTF8.self).unicodeScalars)
        }
        while true {
            guard !atEnd else { throw error("unterminated string") }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                flush(self, upTo: offset)
                offset += 1
                return String(scalars)
            }
            if byte < 0x20 { throw error("control character in string") }
            guard byte == UInt8(ascii: "\\") else {
                offset += 1
                continue
            }
            flush(self, upTo: offset)
            offset += 1
            guard !atEnd else { throw error("unterminated escape") }
            let escape = bytes[offset]
            offset += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var value = try readHex4()
                if (0xD800..<0xDC00).contains(value), consume("\\u") {
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        scalars.append("\u{FFFD}")
                        value = low
                    }
                }
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default:
                throw error("bad escape")
            }
            runStart = offset
        }
    }
}
