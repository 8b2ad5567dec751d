/// Decodes backslash escapes in string literals the way jinja2 does (Python's `unicode-escape` codec):
/// `\n \t \r \\ \' \" \a \b \f \v`, octal `\ooo`, `\xhh`, `\uhhhh`, `\Uhhhhhhhh`, and a backslash before a
/// newline joins lines. Unknown escapes keep their backslash.
enum StringEscapes {
    static func decode(
        _ raw: ArraySlice<Unicode.Scalar>, error: (String, Int) -> TemplateError
    ) throws -> String {
        let text = Array(raw)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < text.count {
            let scalar = text[index]
            guard scalar == "\\", index + 1 < text.count else {
                result.append(scalar)
                index += 1
                continue
            }
            let escape = text[index + 1]
            index += 2
            switch escape {
            case "\n": break
            case "\\", "'", "\"": result.append(escape)
            case "a": result.append("\u{07}")
            case "b": result.append("\u{08}")
            case "f": result.append("\u{0C}")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "t": result.append("\t")
            case "v": result.append("\u{0B}")
            case "0"..."7":
                var value = escape.value - 0x30
                var digits = 1
                while digits < 3, index < text.count, ("0"..."7").contains(text[index]) {
                    value = value * 8 + text[index].value - 0x30
                    index += 1
                    digits += 1
                }
                result.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            case "x", "u", "U":
                let width = escape == "x" ? 2 : escape == "u" ? 4 : 8
                guard index + width <= text.count,
                      let value = UInt32(PythonText.string(text[index..<(index + width)]), radix: 16),
                      text[index..<(index + width)].allSatisfy({ $0.properties.isASCIIHexDigit }) else {
                    throw error("truncated \\\(escape) escape", index - 2)
                }
                guard value <= 0x10FFFF else { throw error("illegal Unicode character", index - 2) }
                // Lone surrogates cannot live in a Swift string.
                result.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                index += width
            default:
                result.append("\\")
                result.append(escape)
            }
        }
        return String(result)
    }
}
