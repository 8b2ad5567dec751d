import Foundation

/// Parsers for the kinds of option values; each throws the reason a value is refused.
enum ConfigurationValues {
    static func scalar(_ value: ConfigurationValue, expected: String) throws(InvalidValue) -> String {
        guard case let .text(s) = value else { throw InvalidValue(reason: "is not \(expected)") }
        return s
    }

    /// nil for null or empty text (unset), else the parsed value.
    static func optional<T>(_ value: ConfigurationValue, _ parse: (ConfigurationValue) throws(InvalidValue) -> T) throws(InvalidValue) -> T? {
        if value == .null || value == .text("") { return nil }
        return try parse(value)
    }

    static func integer(_ value: ConfigurationValue, _ range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        let expected = "an integer \(describe(range))"
        guard let v = Int(try scalar(value, expected: expected)), range.contains(v) else {
            throw InvalidValue(reason: "is not \(expected)")
        }
        return v
    }

    /// Bytes, or a number with a decimal (kB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB) unit;
    /// units ignore case and may drop the trailing B.
    static func size(_ value: ConfigurationValue, _ range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        let expected = "a size \(describe(sizes: range)) (e.g. 512MiB, 2GiB, 1048576)"
        let text = try scalar(value, expected: expected)
        guard let (number, unit) = splitNumber(text), let scale = sizeUnits[unit.lowercased()] else {
            throw InvalidValue(reason: "is not \(expected)")
        }
        let bytes = (number * scale).rounded(.down)
        guard bytes <= Double(range.upperBound), bytes >= Double(range.lowerBound) else {
            throw InvalidValue(reason: "is not \(expected)")
        }
        return Int(bytes)
    }

    /// Seconds, or a number with ms, s, m or h.
    static func seconds(_ value: ConfigurationValue, _ range: ClosedRange<Double>) throws(InvalidValue) -> Double {
        let expected = "a duration \(describe(range)) (e.g. 30s, 500ms, 2m)"
        let text = try scalar(value, expected: expected)
        guard let (number, unit) = splitNumber(text), let scale = durationUnits[unit], range.contains(number * scale) else {
            throw InvalidValue(reason: "is not \(expected)")
        }
        return number * scale
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ value: ConfigurationValue, _: T.Type) throws(InvalidValue) -> T where T.RawValue == String {
        let expected = "one of " + T.allCases.map(\.rawValue).joined(separator: ", ")
        guard let v = T(rawValue: try scalar(value, expected: expected)) else { throw InvalidValue(reason: "is not \(expected)") }
        return v
    }

    /// Free text with no whitespace or control characters (host names, model ids).
    static func word(_ value: ConfigurationValue, what: String) throws(InvalidValue) -> String {
        let s = try scalar(value, expected: what)
        guard !s.isEmpty, !s.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw InvalidValue(reason: "is not \(what) (empty, or contains spaces or control characters)")
        }
        return s
    }

    static func path(_ value: ConfigurationValue) throws(InvalidValue) -> String {
        let s = try scalar(value, expected: "a path")
        guard !s.isEmpty, !s.contains("\0") else { throw InvalidValue(reason: "is not a path") }
        return s
    }

    /// CORS origins from a comma-separated string or a JSON array: `*`, or scheme://host[:port].
    static func origins(_ value: ConfigurationValue) throws(InvalidValue) -> [String] {
        let items: [String]
        switch value {
        case let .text(s): items = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        case let .list(l): items = l
        default: throw InvalidValue(reason: "is not a list of origins")
        }
        for item in items where !isOrigin(item) {
            throw InvalidValue(reason: "is not a list of origins: \"\(item)\" is neither * nor scheme://host[:port]")
        }
        return items
    }

    private static func isOrigin(_ s: String) -> Bool {
        if s == "*" { return true }
        guard let url = URLComponents(string: s), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else { return false }
        return url.path.isEmpty && url.query == nil && url.fragment == nil && url.user == nil
    }

    static func describe(_ range: ClosedRange<Int>) -> String { "between \(range.lowerBound) and \(range.upperBound)" }

    static func describe(sizes range: ClosedRange<Int>) -> String {
        "between \(formatSize(range.lowerBound)) and \(formatSize(range.upperBound))"
    }

    static func describe(_ range: ClosedRange<Double>) -> String {
        "between \(formatSeconds(range.lowerBound)) and \(formatSeconds(range.upperBound))"
    }

    /// The largest binary unit that divides `bytes` exactly, e.g. 4MiB; plain bytes otherwise.
    static func formatSize(_ bytes: Int) -> String {
        for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes > 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return String(bytes)
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds == seconds.rounded() { return "\(Int(seconds))s" }
        let millis = seconds * 1000
        if millis == millis.rounded() { return "\(Int(millis))ms" }
        return "\(seconds)s"
    }

    private static let sizeUnits: [String: Double] = {
        var units: [String: Double] = ["": 1, "b": 1]
        for (i, prefix) in ["k", "m", "g", "t"].enumerated() {
            let decimal = pow(1000, Double(i + 1)), binary = pow(1024, Double(i + 1))
            units[prefix] = decimal
            units[prefix + "b"] = decimal
            units[prefix + "i"] = binary
            units[prefix + "ib"] = binary
        }
        return units
    }()

    private static let durationUnits: [String: Double] = ["": 1, "s": 1, "ms": 0.001, "m": 60, "h": 3600]

    /// "2.5GiB" → (2.5, "GiB"); the number is plain decimal digits with an optional fraction.
    private static func splitNumber(_ text: String) -> (Double, String)? {
        let digits = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = text.dropFirst(digits.count)
        guard !digits.isEmpty, digits.first != ".", digits.last != ".", digits.filter({ $0 == "." }).count <= 1,
              let number = Double(digits), unit.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        return (number, String(unit))
    }
}
