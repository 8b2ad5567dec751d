/// Where a setting came from, for error messages.
public enum ConfigurationOrigin: Sendable, Equatable, CustomStringConvertible {
    case flag(String)              // "--port"
    case environment(String)       // "SHIFTADD_PORT"
    case file(path: String, key: String)
    case `default`

    /// "flag", "environment", "file" or "default".
    public var source: String {
        switch self {
        case .flag: "flag"
        case .environment: "environment"
        case .file: "file"
        case .default: "default"
        }
    }

    public var description: String {
        switch self {
        case let .flag(name): name
        case let .environment(name): name
        case let .file(path, key): "key \"\(key)\" of \(path)"
        case .default: "the defaults"
        }
    }
}

/// A setting that cannot be used, e.g.
/// `port: "abc" from SHIFTADD_PORT is not an integer between 0 and 65535`.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Option name as a flag without dashes ("max-batch-tokens"), or the unknown name as given.
    public let option: String
    public let origin: ConfigurationOrigin
    /// The offending value as written, when there is one.
    public let value: String?
    public let reason: String

    public init(option: String, origin: ConfigurationOrigin, value: String?, reason: String) {
        self.option = option
        self.origin = origin
        self.value = value
        self.reason = reason
    }

    /// "flag", "environment", "file" or "default".
    public var source: String { origin.source }

    public var description: String {
        if let value { return "\(option): \"\(value)\" from \(origin) \(reason)" }
        return "\(option): \(reason)"
    }
}

/// Why one value was refused; `ServerConfiguration.load` adds the option and origin.
struct InvalidValue: Error {
    let reason: String
}
