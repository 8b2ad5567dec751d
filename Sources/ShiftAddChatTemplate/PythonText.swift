/// Character classes and string helpers with Python's semantics, which templates are written against:
/// strings are sequences of Unicode scalars and "whitespace" is `str.isspace()`.
enum PythonText {
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
             0x3000:
            true
        default:
            false
        }
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }

    static func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isXIDStart
    }

    static func isIdentifierContinue(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isXIDContinue
    }

    static func scalars(_ string: String) -> [Unicode.Scalar] {
        Array(string.unicodeScalars)
    }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Exact (scalar-by-scalar) equality; Swift's `==` on strings uses canonical equivalence instead.
    static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    /// Python's ordering of strings: lexicographic by code point.
    static func less(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }

    static func hasPrefix(_ string: [Unicode.Scalar], _ prefix: [Unicode.Scalar]) -> Bool {
        prefix.count <= string.count && string[..<prefix.count].elementsEqual(prefix)
    }

    static func hasSuffix(_ string: [Unicode.Scalar], _ suffix: [Unicode.Scalar]) -> Bool {
        suffix.count <= string.count && string[(string.count - suffix.count)...].elementsEqual(suffix)
    }

    /// Index of the first occurrence of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from start: Int = 0) -> Int? {
        if needle.isEmpty { return start <= haystack.count ? start : nil }
        guard haystack.count >= needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    static func contains(_ haystack: String, _ needle: String) -> Bool {
        find(scalars(needle), in: scalars(haystack)) != nil
    }
}
