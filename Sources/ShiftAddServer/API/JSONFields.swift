import Foundation

/// Typed, validated reads of one JSON object's fields. JSON `null` counts as absent; unknown fields
/// are never looked at. Errors name the field by its full path (e.g. `messages[1].content`).
struct JSONFields {
    let values: [String: Any]
    /// Prefix of field names in messages: "" at the top, "stream_options." inside that object.
    let prefix: String

    init(_ values: [String: Any], prefix: String = "") {
        self.values = values
        self.prefix = prefix
    }

    /// Parses a request body, which must be a JSON object.
    init(body: [UInt8]) throws(APIError) {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw .invalid("the request body is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else { throw .invalid("the request body must be a JSON object") }
        self.init(object)
    }

    func name(_ key: String) -> String { prefix + key }

    func has(_ key: String) -> Bool { value(key) != nil }

    func value(_ key: String) -> Any? {
        guard let v = values[key], !(v is NSNull) else { return nil }
        return v
    }

    func string(_ key: String) throws(APIError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw .invalid("\(name(key)) must be a string", param: name(key)) }
        return s
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = JSONFields.boolean(v) else { throw .invalid("\(name(key)) must be a boolean", param: name(key)) }
        return b
    }

    func integer(_ key: String, _ bound: Bound) throws(APIError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = JSONFields.integer(v), bound.contains(Double(i)) else {
            throw .invalid("\(name(key)) must be an integer\(bound.suffix)", param: name(key))
        }
        return i
    }

    func number(_ key: String, _ bound: Bound) throws(APIError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = JSONFields.number(v), bound.contains(d) else {
            throw .invalid("\(name(key)) must be a number\(bound.suffix)", param: name(key))
        }
        return d
    }

    func object(_ key: String) throws(APIError) -> JSONFields? {
        guard let v = value(key) else { return nil }
        guard let o = v as? [String: Any] else { throw .invalid("\(name(key)) must be an object", param: name(key)) }
        return JSONFields(o, prefix: name(key) + ".")
    }

    /// A seed: any integer that fits 64 bits, signed or not; negative ones by their bit pattern.
    func seed(_ key: String) throws(APIError) -> UInt64? {
        guard let v = value(key) else { return nil }
        if let n = v as? NSNumber, !JSONFields.isBoolean(n), String(cString: n.objCType) == "Q" { return n.uint64Value }
        guard let i = JSONFields.integer(v) else { throw .invalid("\(name(key)) must be an integer", param: name(key)) }
        return UInt64(bitPattern: Int64(i))
    }

    // MARK: Value classification

    private static let booleanType = type(of: NSNumber(value: true))

    static func isBoolean(_ n: NSNumber) -> Bool { type(of: n) == booleanType }

    static func boolean(_ v: Any) -> Bool? {
        guard let n = v as? NSNumber, isBoolean(n) else { return nil }
        return n.boolValue
    }

    static func number(_ v: Any) -> Double? {
        guard let n = v as? NSNumber, !isBoolean(n) else { return nil }
        return n.doubleValue
    }

    /// An integral JSON number that fits Int (`2.0` counts: JSON does not tell the two apart).
    static func integer(_ v: Any) -> Int? {
        guard let n = v as? NSNumber, !isBoolean(n) else { return nil }
        switch String(cString: n.objCType) {
        case "d", "f":
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9.2e18 else { return nil }
            return Int(d)
        case "Q":
            return n.uint64Value <= UInt64(Int.max) ? Int(n.uint64Value) : nil
        default:
            return Int(n.int64Value)
        }
    }
}

/// The allowed range of a numeric field, written into error messages.
struct Bound {
    var low: Double?
    var high: Double?
    var lowExclusive = false

    static func between(_ low: Double, _ high: Double) -> Bound { Bound(low: low, high: high) }
    static func atLeast(_ low: Double) -> Bound { Bound(low: low, high: nil) }
    static func above(_ low: Double) -> Bound { Bound(low: low, high: nil, lowExclusive: true) }
    static let any = Bound(low: nil, high: nil)

    func contains(_ x: Double) -> Bool {
        if let low, lowExclusive ? x <= low : x < low { return false }
        if let high, x > high { return false }
        return true
    }

    /// " between 0 and 2", " >= 1", or "" when unbounded.
    var suffix: String {
        switch (low, high) {
        case let (low?, high?): " between \(Self.format(low)) and \(Self.format(high))"
        case let (low?, nil): " \(lowExclusive ? ">" : ">=") \(Self.format(low))"
        case let (nil, high?): " <= \(Self.format(high))"
        case (nil, nil): ""
        }
    }

    private static func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : "\(x)" }
}
