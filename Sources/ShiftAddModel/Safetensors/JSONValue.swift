/// A parsed JSON document. The Hugging Face files (safetensors headers, config.json,
/// tokenizer.json) are parsed here rather than with Foundation so that integers stay exact,
/// booleans never pass for numbers, and every defect becomes a `ModelError` naming the file.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    var isNull: Bool { self == .null }

    /// An integer, also when written with a zero fraction (`2048.0`).
    var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 0x1p62: return Int(d)
        default: return nil
        }
    }

    var double: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// What kind of value this is, for error messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Parses a whole document; any defect throws `ModelError.malformed` naming `file`.
    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        do {
            return try parser.document()
        } catch let error as JSONParser.Failure {
            throw ModelError.malformed(file: file, reason: "invalid JSON at byte \(error.offset): \(error.reason)")
        }
    }

    /// Maps and parses the file at `path`.
    static func parse(path: String) throws -> JSONValue {
        let file = try MappedFile(path: path)
        return try parse(UnsafeRawBufferPointer(start: file.base, count: file.count), file: path)
    }
}

/// A strict RFC 8259 parser over raw bytes.
private struct JSONParser {
    struct Failure: Error {
        let offset: Int
        let reason: String
    }

    /// Nesting deeper than this is rejected so corrupt input cannot exhaust the stack.
    static let maxDepth = 512

    let bytes: UnsafeRawBufferPointer
    var pos = 0
    var depth = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func failure(_ reason: String) -> Failure { Failure(offset: pos, reason: reason) }

    mutating func document() throws -> JSONValue {
        skipWhitespace()
        let value = try value()
        skipWhitespace()
        guard pos == bytes.count else { throw failure("unexpected characters after the document") }
        return value
    }

    mutating func skipWhitespace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    mutating func value() throws -> JSONValue {
        guard pos < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("unexpected character \(Self.describe(bytes[pos]))")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - pos >= count,
              (0..<count).allSatisfy({ bytes[pos + $0] == word.utf8Start[$0] }) else {
            throw failure("invalid literal")
        }
        pos += count
    }

    mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth)") }
    }

    mutating func object() throws -> JSONValue {
        try enter()
        pos += 1
        var fields: [String: JSONValue] = [:]
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw failure("expected a key string") }
            let keyOffset = pos
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let item = try value()
            guard fields.updateValue(item, forKey: key) == nil else {
                throw Failure(offset: keyOffset, reason: "duplicate key \"\(key)\"")
            }
            skipWhitespace()
            guard pos < bytes.count else { throw failure("unterminated object") }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
            try expect(UInt8(ascii: ","))
        }
        depth -= 1
        return .object(fields)
    }

    mutating func array() throws -> JSONValue {
        try enter()
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try value())
            skipWhitespace()
            guard pos < bytes.count else { throw failure("unterminated array") }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; break }
            try expect(UInt8(ascii: ","))
        }
        depth -= 1
        return .array(items)
    }

    mutating func expect(_ byte: UInt8) throws {
        guard pos < bytes.count, bytes[pos] == byte else {
            throw failure("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        pos += 1
    }

    mutating func string() throws -> String {
        let start = pos
        pos += 1
        // Fast path: no escapes, so the bytes between the quotes are the string.
        var end = pos
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            guard let s = String(validating: bytes[pos..<end], as: UTF8.self) else {
                throw Failure(offset: start, reason: "string is not valid UTF-8")
            }
            pos = end + 1
            return s
        }
        var utf8 = Array(bytes[pos..<end])
        pos = end
        while true {
            guard pos < bytes.count else { throw Failure(offset: start, reason: "unterminated string") }
            let byte = bytes[pos]
            switch byte {
            case UInt8(ascii: "\""):
                pos += 1
                guard let s = String(validating: utf8, as: UTF8.self) else {
                    throw Failure(offset: start, reason: "string is not valid UTF-8")
                }
                return s
            case UInt8(ascii: "\\"):
                pos += 1
                guard pos < bytes.count else { throw Failure(offset: start, reason: "unterminated string") }
                let escape = bytes[pos]
                pos += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try unicodeEscape())
                default: throw failure("invalid escape \\\(Character(Unicode.Scalar(escape)))")
                }
            case 0..<0x20:
                throw failure("control character in string")
            default:
                utf8.append(byte)
                pos += 1
            }
        }
    }

    /// The UTF-8 bytes of a `\uXXXX` escape (the `\u` already consumed), joining surrogate pairs.
    /// A lone surrogate, which Python's json module writes, becomes U+FFFD.
    mutating func unicodeEscape() throws -> [UInt8] {
        let high = try hex4()
        var scalar = Unicode.Scalar(high)
        if (0xD800..<0xDC00).contains(high), bytes.count - pos >= 6,
           bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
            let save = pos
            pos += 2
            let low = try hex4()
            if (0xDC00..<0xE000).contains(low) {
                scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            } else {
                pos = save
            }
        }
        return Array(String(Character(scalar ?? "\u{FFFD}")).utf8)
    }

    mutating func hex4() throws -> UInt32 {
        guard bytes.count - pos >= 4 else { throw failure("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexDigit(bytes[pos]) else { throw failure("invalid \\u escape") }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    mutating func number() throws -> JSONValue {
        let start = pos
        func digits() -> Int {
            let first = pos
            while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1 }
            return pos - first
        }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        let intDigits = digits()
        guard intDigits > 0 else { throw failure("invalid number") }
        guard intDigits == 1 || bytes[intStart] != UInt8(ascii: "0") else { throw failure("number with a leading zero") }
        var integral = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            integral = false
            guard digits() > 0 else { throw failure("invalid number") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            integral = false
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw failure("invalid number") }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if integral, let i = Int(text) { return .int(i) }
        guard let d = Double(text), d.isFinite else { throw Failure(offset: start, reason: "number out of range") }
        return .double(d)
    }

    static func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x\(String(byte, radix: 16))"
    }
}
