/// The Python `str` methods templates call, e.g. `message.content.strip()` or `text.split('\n')`.
enum StringMethods {
    static func method(_ text: String, _ name: String) -> Value? {
        guard let implementation = table[name] else { return nil }
        return .function(Function(name: name) { _, arguments in try implementation(text, arguments) })
    }

    private typealias Implementation = @Sendable (String, Arguments) throws -> Value

    private static let table: [String: Implementation] = [
        "strip": { text, arguments in .string(try strip(text, arguments, "strip", leading: true, trailing: true)) },
        "lstrip": { text, arguments in .string(try strip(text, arguments, "lstrip", leading: true, trailing: false)) },
        "rstrip": { text, arguments in .string(try strip(text, arguments, "rstrip", leading: false, trailing: true)) },
        "startswith": { text, arguments in try affix(text, arguments, "startswith", PythonText.hasPrefix) },
        "endswith": { text, arguments in try affix(text, arguments, "endswith", PythonText.hasSuffix) },
        "split": { text, arguments in try split(text, arguments, "split", fromEnd: false) },
        "rsplit": { text, arguments in try split(text, arguments, "rsplit", fromEnd: true) },
        "upper": { text, arguments in
            _ = try arguments.bind([], function: "upper")
            return .string(text.uppercased())
        },
        "lower": { text, arguments in
            _ = try arguments.bind([], function: "lower")
            return .string(text.lowercased())
        },
        "title": { text, arguments in
            _ = try arguments.bind([], function: "title")
            return .string(title(text))
        },
        "capitalize": { text, arguments in
            _ = try arguments.bind([], function: "capitalize")
            return .string(capitalize(text))
        },
        "replace": { text, arguments in
            let slots = try arguments.bind(["old", "new", "count"], function: "replace")
            guard let old = slots[0], let new = slots[1] else {
                throw TemplateError.runtime("replace expected at least 2 arguments")
            }
            return .string(try replace(text, try string(old, "replace"), try string(new, "replace"),
                                       count: try count(slots[2], "replace")))
        },
        "find": { text, arguments in
            let slots = try arguments.bind(["sub"], function: "find")
            guard let needle = slots[0] else { throw TemplateError.runtime("find expected 1 argument, got 0") }
            let scalars = PythonText.scalars(text)
            return .int(PythonText.find(PythonText.scalars(try string(needle, "find")), in: scalars) ?? -1)
        },
        "count": { text, arguments in
            let slots = try arguments.bind(["sub"], function: "count")
            guard let needle = slots[0] else { throw TemplateError.runtime("count expected 1 argument, got 0") }
            return .int(occurrences(PythonText.scalars(try string(needle, "count")), in: PythonText.scalars(text)))
        },
        "join": { text, arguments in
            let slots = try arguments.bind(["iterable"], function: "join")
            guard let iterable = slots[0] else { throw TemplateError.runtime("join expected 1 argument, got 0") }
            let parts = try Operators.iterate(iterable).map { item in
                guard case .string(let part) = item else {
                    throw TemplateError.runtime("sequence item: expected str instance, \(item.typeName) found")
                }
                return part
            }
            return .string(parts.joined(separator: text))
        },
    ]

    private static func string(_ value: Value, _ function: String) throws -> String {
        guard case .string(let text) = value else {
            throw TemplateError.runtime("\(function)() argument must be str, not \(value.typeName)")
        }
        return text
    }

    /// A `count`/`maxsplit` argument: nil or negative means "all".
    private static func count(_ value: Value?, _ function: String) throws -> Int {
        guard let value, !(value.isNone) else { return -1 }
        guard let number = value.integerValue else {
            throw TemplateError.runtime("'\(value.typeName)' object cannot be interpreted as an integer")
        }
        return number
    }

    static func strip(_ text: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = PythonText.scalars(text)
        let set = characters.map { Set($0.unicodeScalars) }
        let strippable: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? PythonText.isSpace($0) }
        var start = 0
        var end = scalars.count
        if leading { while start < end && strippable(scalars[start]) { start += 1 } }
        if trailing { while end > start && strippable(scalars[end - 1]) { end -= 1 } }
        return PythonText.string(scalars[start..<end])
    }

    private static func strip(
        _ text: String, _ arguments: Arguments, _ function: String, leading: Bool, trailing: Bool
    ) throws -> String {
        let slots = try arguments.bind(["chars"], function: function)
        var characters: String?
        if let value = slots[0], !value.isNone {
            guard case .string(let chars) = value else {
                throw TemplateError.runtime("\(function) arg must be None or str")
            }
            characters = chars
        }
        return strip(text, characters: characters, leading: leading, trailing: trailing)
    }

    private static func affix(
        _ text: String, _ arguments: Arguments, _ function: String,
        _ test: ([Unicode.Scalar], [Unicode.Scalar]) -> Bool
    ) throws -> Value {
        let slots = try arguments.bind(["prefix"], function: function)
        let candidates: [Value]
        switch slots[0] {
        case .string?: candidates = [slots[0]!]
        case .tuple(let items)?: candidates = items
        default:
            throw TemplateError.runtime(
                "\(function) first arg must be str or a tuple of str, not \(slots[0]?.typeName ?? "nothing")")
        }
        let scalars = PythonText.scalars(text)
        for candidate in candidates {
            guard case .string(let affix) = candidate else {
                throw TemplateError.runtime("tuple for \(function) must only contain str, not \(candidate.typeName)")
            }
            if test(scalars, PythonText.scalars(affix)) { return .bool(true) }
        }
        return .bool(false)
    }

    private static func split(_ text: String, _ arguments: Arguments, _ function: String, fromEnd: Bool) throws -> Value {
        let slots = try arguments.bind(["sep", "maxsplit"], function: function)
        let limit = try count(slots[1], function)
        let scalars = PythonText.scalars(text)
        let parts: [[Unicode.Scalar]]
        if let separator = slots[0], !separator.isNone {
            let needle = PythonText.scalars(try string(separator, function))
            guard !needle.isEmpty else { throw TemplateError.runtime("empty separator") }
            parts = fromEnd ? splitFromEnd(scalars, needle, limit: limit) : split(scalars, needle, limit: limit)
        } else {
            parts = splitOnWhitespace(scalars, limit: limit, fromEnd: fromEnd)
        }
        return .list(parts.map { .string(PythonText.string($0)) })
    }

    private static func split(_ text: [Unicode.Scalar], _ separator: [Unicode.Scalar], limit: Int) -> [[Unicode.Scalar]] {
        var parts: [[Unicode.Scalar]] = []
        var start = 0
        while limit < 0 || parts.count < limit, let found = PythonText.find(separator, in: text, from: start) {
            parts.append(Array(text[start..<found]))
            start = found + separator.count
        }
        parts.append(Array(text[start...]))
        return parts
    }

    private static func splitFromEnd(
        _ text: [Unicode.Scalar], _ separator: [Unicode.Scalar], limit: Int
    ) -> [[Unicode.Scalar]] {
        let reversedParts = split(Array(text.reversed()), Array(separator.reversed()), limit: limit)
        return reversedParts.reversed().map { Array($0.reversed()) }
    }

    /// `split()` without a separator: runs of whitespace separate, and empty strings are dropped.
    private static func splitOnWhitespace(_ text: [Unicode.Scalar], limit: Int, fromEnd: Bool) -> [[Unicode.Scalar]] {
        let source = fromEnd ? Array(text.reversed()) : text
        var parts: [[Unicode.Scalar]] = []
        var index = 0
        while true {
            while index < source.count && PythonText.isSpace(source[index]) { index += 1 }
            if index == source.count { break }
            if limit >= 0 && parts.count == limit {
                parts.append(Array(source[index...]))
                break
            }
            let start = index
            while index < source.count && !PythonText.isSpace(source[index]) { index += 1 }
            parts.append(Array(source[start..<index]))
        }
        return fromEnd ? parts.reversed().map { Array($0.reversed()) } : parts
    }

    static func replace(_ text: String, _ old: String, _ new: String, count limit: Int) throws -> String {
        let scalars = PythonText.scalars(text)
        let needle = PythonText.scalars(old)
        let replacement = PythonText.scalars(new)
        var result: [Unicode.Scalar] = []
        var replaced = 0
        var index = 0
        if needle.isEmpty {
            // Python inserts the replacement before every character and at the end.
            while index <= scalars.count {
                if limit < 0 || replaced < limit {
                    result += replacement
                    replaced += 1
                }
                if index < scalars.count { result.append(scalars[index]) }
                index += 1
            }
        } else {
            while limit < 0 || replaced < limit, let found = PythonText.find(needle, in: scalars, from: index) {
                result += scalars[index..<found]
                result += replacement
                index = found + needle.count
                replaced += 1
            }
            result += scalars[index...]
        }
        return PythonText.string(result)
    }

    private static func occurrences(_ needle: [Unicode.Scalar], in text: [Unicode.Scalar]) -> Int {
        if needle.isEmpty { return text.count + 1 }
        var count = 0
        var index = 0
        while let found = PythonText.find(needle, in: text, from: index) {
            count += 1
            index = found + needle.count
        }
        return count
    }

    /// Python's `str.title()`: a letter after a cased letter is lowercased, any other is titlecased.
    static func title(_ text: String) -> String {
        var result = ""
        var previousCased = false
        for scalar in text.unicodeScalars {
            result += previousCased ? scalar.properties.lowercaseMapping : scalar.properties.titlecaseMapping
            previousCased = scalar.properties.isCased
        }
        return result
    }

    /// Python's `str.capitalize()`: first character titlecased, the rest lowercased.
    static func capitalize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        return first.properties.titlecaseMapping + String(text.unicodeScalars.dropFirst()).lowercased()
    }
}
