/// An insertion-ordered dictionary keyed like Python's: `1`, `1.0` and `true` are the same key, and
/// strings compare by code point.
struct Dict {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    private var positions: [HashKey: Int] = [:]

    var count: Int { keys.count }

    var entries: Zip2Sequence<[Value], [Value]> { zip(keys, values) }

    subscript(key: Value) -> Value? {
        guard let hashKey = HashKey(key), let position = positions[hashKey] else { return nil }
        return values[position]
    }

    subscript(key: String) -> Value? { self[.string(key)] }

    /// Inserts or replaces; a key that cannot be hashed (a list, a dict) is an error, as in Python.
    mutating func set(_ key: Value, _ value: Value) throws {
        guard let hashKey = HashKey(key) else { throw Self.unhashable(key) }
        insert(hashKey, key, value)
    }

    static func checkHashable(_ key: Value) throws {
        guard HashKey(key) != nil else { throw unhashable(key) }
    }

    private static func unhashable(_ key: Value) -> TemplateError {
        .runtime("unhashable type: '\(key.typeName)'")
    }

    mutating func set(_ key: String, _ value: Value) {
        insert(.string(Array(key.utf8)), .string(key), value)
    }

    private mutating func insert(_ hashKey: HashKey, _ key: Value, _ value: Value) {
        if let position = positions[hashKey] {
            values[position] = value
        } else {
            positions[hashKey] = keys.count
            keys.append(key)
            values.append(value)
        }
    }
}

/// The identity of a dictionary key under Python's equality.
enum HashKey: Hashable {
    case none
    case int(Int)
    case double(Double)
    case string([UInt8])
    case tuple([HashKey])

    init?(_ value: Value) {
        switch value {
        case .none: self = .none
        case .bool(let value): self = .int(value ? 1 : 0)
        case .int(let value): self = .int(value)
        case .double(let value):
            if value.rounded() == value, let integer = Int(exactly: value) {
                self = .int(integer)
            } else {
                self = .double(value)
            }
        case .string(let value): self = .string(Array(value.utf8))
        case .tuple(let items):
            var keys: [HashKey] = []
            for item in items {
                guard let key = HashKey(item) else { return nil }
                keys.append(key)
            }
            self = .tuple(keys)
        case .undefined, .list, .dict, .namespace, .loop, .function:
            return nil
        }
    }
}
