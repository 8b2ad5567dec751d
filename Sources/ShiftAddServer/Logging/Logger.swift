import Foundation

/// Writes one line per entry to standard error (or to a sink, for tests). Safe to call from any
/// thread: a lock keeps lines whole and in call order.
public final class Logger: Sendable {
    public let level: LogLevel
    public let format: LogFormat
    private let sink: @Sendable (String) -> Void
    private let lock = NSLock()

    public init(level: LogLevel, format: LogFormat) {
        self.level = level
        self.format = format
        sink = Logger.writeToStandardError
    }

    /// `sink` receives each finished line, newline included.
    public init(level: LogLevel, format: LogFormat, sink: @escaping @Sendable (String) -> Void) {
        self.level = level
        self.format = format
        self.sink = sink
    }

    /// True when a line at `level` would be written; lets callers skip building costly messages.
    public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// `fields` are written after the message in order, e.g. `("request_id", id)`.
    public func log(_ level: LogLevel, _ message: String, _ fields: [(String, String)] = []) {
        guard isEnabled(level) else { return }
        let line = LogLineFormatter.line(format: format, timestamp: LogLineFormatter.timestamp(Date()),
                                         level: level, message: message, fields: fields)
        lock.lock()
        defer { lock.unlock() }
        sink(line)
    }

    public func debug(_ message: String, _ fields: [(String, String)] = []) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: [(String, String)] = []) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [(String, String)] = []) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [(String, String)] = []) { log(.error, message, fields) }

    /// One write(2) per line so lines from other processes sharing stderr do not interleave mid-line.
    private static let writeToStandardError: @Sendable (String) -> Void = { line in
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
