/// Python's `str()` and `repr()` of values, which is what `{{ value }}` and `~` print.
enum ValueFormatting {
    static func str(_ value: Value) -> String {
        switch value {
        case .undefined: ""
        case .string(let text): text
        default: repr(value)
        }
    }

    static func repr(_ value: Value) -> String {
        switch value {
        case .undefined: "Undefined"
        case .none: "None"
        case .bool(let flag): flag ? "True" : "False"
        case .int(let number): String(number)
        case .double(let number): float(number)
        case .string(let text): quoted(text)
        case .list(let items): "[" + items.map(repr).joined(separator: ", ") + "]"
        case .tuple(let items):
            items.count == 1 ? "(" + repr(items[0]) + ",)" : "(" + items.map(repr).joined(separator: ", ") + ")"
        case .dict(let dict): mapping(dict)
        case .namespace(let namespace): "<Namespace " + mapping(namespace.attributes) + ">"
        case .loop(let loop): "<LoopContext \(loop.index0 + 1)/\(loop.items.count)>"
        case .function(let function): "<built-in function \(function.name)>"
        }
    }

    private static func mapping(_ dict: Dict) -> String {
        "{" + dict.entries.map { repr($0.0) + ": " + repr($0.1) }.joined(separator: ", ") + "}"
    }

    /// Python's shortest round-trip float repr, which Swift's `description` matches for finite values.
    static func float(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        return number.description
    }

    /// Python's `repr` of a string: single quotes unless the text has `'` but no `"`.
    static func quoted(_ text: String) -> String {
        let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"") ? "\"" : "'"
        var result = String.UnicodeScalarView()
        result.append(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case quote, "\\":
                result.append("\\")
                result.append(scalar)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            default:
                if isPrintable(scalar) {
                    result.append(scalar)
                } else {
                    result.append(contentsOf: hexEscape(scalar).unicodeScalars)
                }
            }
        }
        result.append(quote)
        return String(result)
    }

    private static func hexEscape(_ scalar: Unicode.Scalar) -> String {
        let (prefix, width) = scalar.value <= 0xFF ? ("\\x", 2) : scalar.value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
        let digits = String(scalar.value, radix: 16)
        return prefix + String(repeating: "0", count: width - digits.count) + digits
    }

    /// Python's `str.isprintable()` for one character: not a control, format, separator (other than
    /// space), surrogate, private-use or unassigned code point.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
             .spaceSeparator:
            return false
        default:
            return true
        }
    }
}
