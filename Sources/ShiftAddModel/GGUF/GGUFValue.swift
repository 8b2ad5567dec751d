/// A GGUF metadata value. Integers keep their signedness; floats are widened to Double.
public enum GGUFValue: Sendable, Equatable {
    case unsigned(UInt64)
    case signed(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// GGUF's numbering of value types.
    enum Kind: UInt32 {
        case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64
    }

    public var intValue: Int? {
        switch self {
        case let .unsigned(v): return v <= UInt64(Int.max) ? Int(v) : nil
        case let .signed(v): return Int(v)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case let .float(v): return v
        case let .unsigned(v): return Double(v)
        case let .signed(v): return Double(v)
        default: return nil
        }
    }

    public var boolValue: Bool? { if case let .bool(v) = self { return v } else { return nil } }
    public var stringValue: String? { if case let .string(v) = self { return v } else { return nil } }
    public var arrayValue: [GGUFValue]? { if case let .array(v) = self { return v } else { return nil } }
}
