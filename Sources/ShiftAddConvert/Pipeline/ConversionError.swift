/// Why a conversion stopped.
public enum ConversionError: Error, Equatable, CustomStringConvertible {
    case calibration(String)
    case unsupported(String)
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .calibration(m): return "calibration: \(m)"
        case let .unsupported(m): return "unsupported: \(m)"
        case let .invalidOption(m): return m
        }
    }
}
