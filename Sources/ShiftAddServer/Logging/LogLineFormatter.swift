import Foundation

/// Renders log entries as single lines: control characters are escaped so a message or field
/// value can never start a forged line.
enum LogLineFormatter {
    /// Field keys the JSON format uses itself; a field with one of these names gets a `_` prefix.
    static let reservedKeys: Set<String> = ["time", "level", "message"]

    static func line(format: LogFormat, timestamp: String, level: LogLevel, message: String,
                     fields: [(String, String)]) -> String {
        switch format {
        case .text:
            var line = timestamp + " " + level.rawValue.uppercased() + " " + escapedText(message)
            for (key, value) in fields {
                line += " " + textValue(key) + "=" + textValue(value)
            }
            return line + "\n"
        case .json:
            var line = "{\"time\":" + jsonString(timestamp) + ",\"level\":" + jsonString(level.rawValue)
                + ",\"message\":" + jsonString(message)
            for (key, value) in fields {
                let name = reservedKeys.contains(key) ? "_" + key : key
                line += "," + jsonString(name) + ":" + jsonString(value)
            }
            return line + "}\n"
        }
    }

    /// RFC 3339 UTC time with milliseconds, e.g. `2025-01-31T09:15:02.417Z`.
    static func timestamp(_ date: Date) -> String {
        let since1970 = date.timeIntervalSince1970
        var seconds = time_t(since1970.rounded(.down))
        let millis = min(999, Int((since1970 - Double(seconds)) * 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let digits = String(v)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
            + "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
            + "." + pad(Int32(millis), 3) + "Z"
    }

    /// Text-format message: printable as is, control characters as escapes.
    static func escapedText(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars { out += escape(scalar) ?? String(scalar) }
        return out
    }

    /// Text-format key or value: bare when it is a plain word, else quoted and escaped as in JSON.
    static func textValue(_ s: String) -> String {
        let needsQuotes = s.isEmpty || s.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || escape($0) != nil }
        return needsQuotes ? jsonString(s) : s
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out += escape(scalar) ?? String(scalar)
            }
        }
        return out + "\""
    }

    /// The escape for a control character (C0, DEL, C1 and the Unicode line separators), else nil.
    private static func escape(_ scalar: Unicode.Scalar) -> String? {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            let v = scalar.value
            guard v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029 else { return nil }
            let hex = String(v, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
}
