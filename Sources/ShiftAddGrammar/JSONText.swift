import Foundation

/// Canonical JSON text of `enum`/`const` values and key names: the one spelling the grammar allows.
enum JSONText {
    private static let booleanType = type(of: NSNumber(value: true))

    static func isBoolean(_ n: NSNumber) -> Bool { type(of: n) == booleanType }

    static func encode(_ value: Any, path: String) throws(SchemaError) -> String {
        switch value {
        case is NSNull: return "null"
        case let n as NSNumber:
            if isBoolean(n) { return n.boolValue ? "true" : "false" }
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            guard d.isFinite else { throw SchemaError("must be a finite number", path: path) }
            return "\(d)"
        case let s as String: return string(s)
        case let list as [Any]:
            var parts: [String] = []
            for (i, v) in list.enumerated() { parts.append(try encode(v, path: "\(path)[\(i)]")) }
            return "[" + parts.joined(separator: ",") + "]"
        case let object as [String: Any]:
            var parts: [String] = []
            for key in object.keys.sorted() { parts.append(string(key) + ":" + (try encode(object[key]!, path: "\(path).\(key)"))) }
            return "{" + parts.joined(separator: ",") + "}"
        default:
            throw SchemaError("is not a JSON value", path: path)
        }
    }

    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
