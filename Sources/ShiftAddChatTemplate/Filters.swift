import Foundation

/// The filters (`value | name(args)`) available to templates, with jinja2's semantics, plus
/// Hugging Face's `tojson`. Unknown names are rejected when the template is parsed.
enum Filters {
    typealias Implementation = @Sendable (Interpreter, Value, Arguments) throws -> Value

    static let table: [String: Implementation] = [
        "capitalize": { _, value, arguments in
            _ = try arguments.bind([], function: "capitalize")
            return .string(StringMethods.capitalize(ValueFormatting.str(value)))
        },
        "default": defaultValue,
        "d": defaultValue,
        "first": { _, value, arguments in
            _ = try arguments.bind([], function: "first")
            return try Operators.iterate(value).first ?? .undefined("No first item, sequence was empty.")
        },
        "last": { _, value, arguments in
            _ = try arguments.bind([], function: "last")
            if case .undefined = value { return .undefined("No last item, sequence was empty.") }
            guard let items = try? Operators.iterate(value) else {
                throw TemplateError.runtime("'\(value.typeName)' object is not reversible")
            }
            return items.last ?? .undefined("No last item, sequence was empty.")
        },
        "float": { _, value, arguments in
            let slots = try arguments.bind(["default"], function: "float")
            return try toFloat(value).map(Value.double) ?? slots[0] ?? .double(0)
        },
        "int": { _, value, arguments in
            let slots = try arguments.bind(["default", "base"], function: "int")
            let base = slots[1]?.integerValue ?? 10
            return try toInt(value, base: base).map(Value.int) ?? slots[0] ?? .int(0)
        },
        "items": { _, value, arguments in
            _ = try arguments.bind([], function: "items")
            switch value {
            case .undefined: return .list([])
            case .dict(let dict): return .list(dict.entries.map { .tuple([$0.0, $0.1]) })
            default: throw TemplateError.runtime("Can only get item pairs from a mapping.")
            }
        },
        "join": { interpreter, value, arguments in
            let slots = try arguments.bind(["d", "attribute"], function: "join")
            var items = try Operators.iterate(value)
            if let attribute = slots[1], !attribute.isNone {
                items = try items.map { try attributePath(attribute)($0) }
            }
            let separator = slots[0].map(ValueFormatting.str) ?? ""
            let result = items.map(ValueFormatting.str).joined(separator: separator)
            try interpreter.limits.checkSize(result.utf8.count)
            return .string(result)
        },
        "length": length,
        "count": length,
        "list": { _, value, arguments in
            _ = try arguments.bind([], function: "list")
            return .list(try Operators.iterate(value))
        },
        "lower": { _, value, arguments in
            _ = try arguments.bind([], function: "lower")
            return .string(ValueFormatting.str(value).lowercased())
        },
        "upper": { _, value, arguments in
            _ = try arguments.bind([], function: "upper")
            return .string(ValueFormatting.str(value).uppercased())
        },
        "map": { interpreter, value, arguments in
            let items = try Operators.iterate(value)
            if arguments.positional.isEmpty {
                let slots = try arguments.bind(["attribute", "default"], function: "map")
                guard let attribute = slots[0] else { throw TemplateError.runtime("map requires a filter or an attribute") }
                let getter = attributePath(attribute)
                return .list(try items.map { item in
                    let result = try getter(item)
                    if result.isUndefined, let fallback = slots[1] { return fallback }
                    return result
                })
            }
            guard case .string(let name) = arguments.positional[0], let filter = table[name] else {
                throw TemplateError.runtime("map: no filter named \(ValueFormatting.repr(arguments.positional[0]))")
            }
            let rest = Arguments(positional: Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
            return .list(try items.map { try filter(interpreter, $0, rest) })
        },
        "replace": { interpreter, value, arguments in
            let slots = try arguments.bind(["old", "new", "count"], function: "replace")
            guard let old = slots[0], let new = slots[1] else {
                throw TemplateError.runtime("replace() missing required arguments 'old' and 'new'")
            }
            var limit = -1
            if let count = slots[2], !count.isNone {
                guard let number = count.integerValue else {
                    throw TemplateError.runtime("'\(count.typeName)' object cannot be interpreted as an integer")
                }
                limit = number
            }
            let result = try StringMethods.replace(ValueFormatting.str(value), ValueFormatting.str(old),
                                                   ValueFormatting.str(new), count: limit)
            try interpreter.limits.checkSize(result.utf8.count)
            return .string(result)
        },
        "reverse": { _, value, arguments in
            _ = try arguments.bind([], function: "reverse")
            if case .string(let text) = value { return .string(PythonText.string(text.unicodeScalars.reversed())) }
            guard let items = try? Operators.iterate(value) else { throw TemplateError.runtime("argument must be iterable") }
            return .list(items.reversed())
        },
        "select": { interpreter, value, arguments in try select(interpreter, value, arguments, attribute: false, keep: true) },
        "reject": { interpreter, value, arguments in try select(interpreter, value, arguments, attribute: false, keep: false) },
        "selectattr": { interpreter, value, arguments in
            try select(interpreter, value, arguments, attribute: true, keep: true)
        },
        "rejectattr": { interpreter, value, arguments in
            try select(interpreter, value, arguments, attribute: true, keep: false)
        },
        "string": { _, value, arguments in
            _ = try arguments.bind([], function: "string")
            return .string(ValueFormatting.str(value))
        },
        "title": { _, value, arguments in
            _ = try arguments.bind([], function: "title")
            return .string(title(ValueFormatting.str(value)))
        },
        "tojson": { interpreter, value, arguments in
            .string(try JSONEncoding(arguments: arguments, limits: interpreter.limits).encode(value))
        },
        "trim": { _, value, arguments in
            let slots = try arguments.bind(["chars"], function: "trim")
            var characters: String?
            if let chars = slots[0], !chars.isNone { characters = ValueFormatting.str(chars) }
            return .string(StringMethods.strip(ValueFormatting.str(value), characters: characters,
                                               leading: true, trailing: true))
        },
    ]

    private static let defaultValue: Implementation = { _, value, arguments in
        let slots = try arguments.bind(["default_value", "boolean"], function: "default")
        let useDefault = (slots[1]?.isTruthy ?? false) ? !value.isTruthy : value.isUndefined
        return useDefault ? slots[0] ?? .string("") : value
    }

    private static let length: Implementation = { _, value, arguments in
        _ = try arguments.bind([], function: "length")
        return .int(try Operators.length(value))
    }

    /// jinja2's `make_attrgetter`: `"a.b.0"` looks up `a`, then `b`, then item `0`, items first.
    static func attributePath(_ attribute: Value) -> (Value) throws -> Value {
        let parts: [Value]
        if case .string(let path) = attribute {
            parts = path.split(separator: ".", omittingEmptySubsequences: false).map { part in
                !part.isEmpty && part.allSatisfy { ("0"..."9").contains($0) } ? Value.int(Int(part) ?? 0) : .string(String(part))
            }
        } else {
            parts = [attribute]
        }
        return { item in try parts.reduce(item) { try Access.item($0, $1) } }
    }

    /// `select`/`reject` with a test name and its arguments, or `selectattr`/`rejectattr` that first
    /// look up an attribute; without a test, truthiness decides.
    private static func select(
        _ interpreter: Interpreter, _ value: Value, _ arguments: Arguments, attribute: Bool, keep: Bool
    ) throws -> Value {
        var positional = arguments.positional
        var getter: (Value) throws -> Value = { $0 }
        if attribute {
            guard !positional.isEmpty else { throw TemplateError.runtime("missing parameter for attribute name") }
            getter = attributePath(positional.removeFirst())
        }
        var test: (Value) throws -> Bool = { $0.isTruthy }
        if !positional.isEmpty {
            guard case .string(let name) = positional[0], let implementation = TestPredicates.table[name] else {
                throw TemplateError.runtime("no test named \(ValueFormatting.repr(positional[0]))")
            }
            let rest = Arguments(positional: Array(positional.dropFirst()), keywords: arguments.keywords)
            test = { try implementation(interpreter, $0, rest) }
        }
        return .list(try Operators.iterate(value).filter { try test(try getter($0)) == keep })
    }

    /// jinja2's `title` filter: each word (split at whitespace, `-`, and opening brackets) gets an
    /// uppercase first letter and lowercase rest.
    private static func title(_ text: String) -> String {
        let separators: Set<Unicode.Scalar> = ["-", "(", "{", "[", "<"]
        var result = ""
        var word = ""
        func flush() {
            guard let first = word.unicodeScalars.first else { return }
            result += String(first).uppercased() + String(word.unicodeScalars.dropFirst()).lowercased()
            word = ""
        }
        for scalar in text.unicodeScalars {
            if PythonText.isSpace(scalar) || separators.contains(scalar) {
                flush()
                result.unicodeScalars.append(scalar)
            } else {
                word.unicodeScalars.append(scalar)
            }
        }
        flush()
        return result
    }

    /// Python's `int(value)` inside jinja2's `int` filter: nil where the filter falls back to its default.
    private static func toInt(_ value: Value, base: Int) throws -> Int? {
        switch value {
        case .undefined(let undefined): throw undefined.error
        case .int(let number): return number
        case .bool(let flag): return flag ? 1 : 0
        case .double(let number):
            guard number.isFinite else {
                if number.isNaN { return nil }
                throw TemplateError.runtime("cannot convert float infinity to integer")
            }
            guard let integer = Int(exactly: number.rounded(.towardZero)) else { throw TemplateError.runtime("integer overflow") }
            return integer
        case .string(let text):
            let trimmed = StringMethods.strip(text, characters: nil, leading: true, trailing: true)
            if let number = parseInteger(trimmed, base: base) { return number }
            return try toFloat(value).flatMap { try toInt(.double($0), base: 10) }
        default:
            return nil
        }
    }

    private static func parseInteger(_ text: String, base: Int) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        // Python accepts the base's own prefix: int('0x1A', 16).
        let prefixes = [16: ["0x", "0X"], 8: ["0o", "0O"], 2: ["0b", "0B"]][base] ?? []
        if let prefix = prefixes.first(where: { digits.hasPrefix($0) }) {
            digits = digits.dropFirst(prefix.count)
            if digits.first == "_" { digits = digits.dropFirst() }
        }
        guard let first = digits.first, first != "_", digits.last != "_", !digits.contains("__") else { return nil }
        let cleaned = digits.replacingOccurrences(of: "_", with: "")
        guard (2...36).contains(base), let magnitude = Int(cleaned, radix: base) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Python's `float(value)`: nil where the `float` filter falls back to its default.
    private static func toFloat(_ value: Value) throws -> Double? {
        switch value {
        case .undefined(let undefined): throw undefined.error
        case .int(let number): return Double(number)
        case .bool(let flag): return flag ? 1 : 0
        case .double(let number): return number
        case .string(let text):
            let trimmed = StringMethods.strip(text, characters: nil, leading: true, trailing: true).lowercased()
            switch trimmed {
            case "inf", "+inf", "infinity", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            case "nan", "+nan", "-nan": return .nan
            default:
                guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.e_".contains($0)) }),
                      !trimmed.hasPrefix("_"), !trimmed.contains("__") else { return nil }
                return Double(trimmed.replacingOccurrences(of: "_", with: ""))
            }
        default:
            return nil
        }
    }
}
