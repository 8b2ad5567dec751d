/// Severity of a log line; lines below the logger's level are dropped.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, info, warning, error

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// How each log line is written: `key=value` text for people, one JSON object for collectors.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}
