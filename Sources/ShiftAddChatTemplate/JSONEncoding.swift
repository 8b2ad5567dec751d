/// The `tojson` filter as Hugging Face defines it: Python's
/// `json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
struct JSONEncoding {
    var ensureASCII = false
    /// Text for one indentation level, or nil for single-line output.
    var indent: String?
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false
    let limits: RenderLimits

    /// Reads `tojson`'s arguments; positionally they are `ensure_ascii, indent, separators, sort_keys`.
    init(arguments: Arguments, limits: RenderLimits) throws {
        self.limits = limits
        let slots = try arguments.bind(["ensure_ascii", "indent", "separators", "sort_keys"], function: "tojson")
        ensureASCII = slots[0]?.isTruthy ?? false
        switch slots[1] {
        case nil, .none?: indent = nil
        case .string(let text)?: indent = text
        case let value?:
            guard let width = value.integerValue else {
                throw TemplateError.runtime("indent must be an integer or a string, not \(value.typeName)")
            }
            try limits.checkSize(width)
            indent = String(repeating: " ", count: max(0, width))
        }
        if indent != nil { itemSeparator = "," }
        switch slots[2] {
        case nil, .none?: break
        case .list(let parts)?, .tuple(let parts)?:
            guard parts.count == 2, case .string(let item) = parts[0], case .string(let key) = parts[1] else {
                throw TemplateError.runtime("separators must be a pair of strings")
            }
            itemSeparator = item
            keySeparator = key
        case let value?:
            throw TemplateError.runtime("separators must be a pair of strings, not \(value.typeName)")
        }
        sortKeys = slots[3]?.isTruthy ?? false
    }

    func encode(_ value: Value) throws -> String {
        var output = ""
        try write(value, level: 0, into: &output)
        return output
    }

    private func newline(_ level: Int, _ output: inout String) {
        guard let indent else { return }
        output += "\n"
        for _ in 0..<level { output += indent }
    }

    private func write(_ value: Value, level: Int, into output: inout String) throws {
        try limits.checkSize(output.utf8.count)
        guard level < Parser.maxNesting else { throw TemplateError.runtime("circular or too deep structure in tojson") }
        switch value {
        case .none: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number): output += Self.float(number)
        case .string(let text): writeString(text, into: &output)
        case .list(let items), .tuple(let items):
            guard !items.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (position, item) in items.enumerated() {
                output += position == 0 ? "" : itemSeparator
                newline(level + 1, &output)
                try write(item, level: level + 1, into: &output)
            }
            newline(level, &output)
            output += "]"
        case .dict(let dict):
            guard dict.count > 0 else {
                output += "{}"
                return
            }
            var entries = try Array(dict.entries).map { (key: try Self.key($0.0), value: $0.1) }
            if sortKeys {
                try entries.sort { try Operators.less($0.key.original, $1.key.original) }
            }
            output += "{"
            for (position, entry) in entries.enumerated() {
                output += position == 0 ? "" : itemSeparator
                newline(level + 1, &output)
                writeString(entry.key.text, into: &output)
                output += keySeparator
                try write(entry.value, level: level + 1, into: &output)
            }
            newline(level, &output)
            output += "}"
        case .undefined, .namespace, .loop, .function:
            let name = value.typeName == "builtin_function_or_method" ? "function" : value.typeName
            throw TemplateError.runtime("Object of type \(name) is not JSON serializable")
        }
    }

    /// JSON object keys: strings as they are; numbers, booleans and None converted as Python does.
    private static func key(_ key: Value) throws -> (text: String, original: Value) {
        switch key {
        case .string(let text): return (text, key)
        case .int(let number): return (String(number), key)
        case .double(let number): return (float(number), key)
        case .bool(let flag): return (flag ? "true" : "false", key)
        case .none: return ("null", key)
        default:
            throw TemplateError.runtime("keys must be str, int, float, bool or None, not \(key.typeName)")
        }
    }

    private static func float(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        return number.description
    }

    private func writeString(_ text: String, into output: inout String) {
        var result = String.UnicodeScalarView()
        result.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": result.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": result.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": result.append(contentsOf: "\\f".unicodeScalars)
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    appendUnicodeEscape(scalar.value, to: &result)
                } else {
                    result.append(scalar)
                }
            }
        }
        result.append("\"")
        output.unicodeScalars.append(contentsOf: result)
    }

    /// `\uXXXX` in lowercase hex, as a surrogate pair above the Basic Multilingual Plane.
    private func appendUnicodeEscape(_ value: UInt32, to result: inout String.UnicodeScalarView) {
        if value > 0xFFFF {
            let offset = value - 0x10000
            appendUnicodeEscape(0xD800 + (offset >> 10), to: &result)
            appendUnicodeEscape(0xDC00 + (offset & 0x3FF), to: &result)
            return
        }
        let digits = String(value, radix: 16)
        result.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - digits.count) + digits).unicodeScalars)
    }
}
