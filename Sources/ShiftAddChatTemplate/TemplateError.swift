/// Why a chat template could not be parsed or rendered.
///
/// `message` is what a user should see; for `raise_exception(...)` it is exactly the template's own
/// message. `line` and `column` (1-based) locate the problem in the template source when known.
public struct TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The template source is not valid (unterminated tag, unknown filter, bad expression, ...).
        case syntax
        /// Evaluation failed: undefined value used, wrong types, bad arguments.
        case runtime
        /// The template called `raise_exception(message)`.
        case raised
        /// The template exceeded a `RenderLimits` bound.
        case limitExceeded
        /// Text given to `TemplateValue(json:)` is not valid JSON.
        case invalidJSON
    }

    public let kind: Kind
    public let message: String
    public let line: Int?
    public let column: Int?

    public init(kind: Kind, message: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        switch (line, column) {
        case let (line?, column?): "line \(line), column \(column): \(message)"
        case let (line?, nil): "line \(line): \(message)"
        default: message
        }
    }

    static func syntax(_ message: String, at location: SourceLocation) -> TemplateError {
        TemplateError(kind: .syntax, message: message, line: location.line, column: location.column)
    }

    static func runtime(_ message: String) -> TemplateError {
        TemplateError(kind: .runtime, message: message)
    }

    static func limit(_ message: String) -> TemplateError {
        TemplateError(kind: .limitExceeded, message: message)
    }

    /// The same error placed at `location`, unless it already has a place or was raised on purpose.
    func located(at location: SourceLocation) -> TemplateError {
        guard line == nil, kind != .raised else { return self }
        return TemplateError(kind: kind, message: message, line: location.line, column: location.column)
    }
}

/// A 1-based position in the (newline-normalised) template source.
struct SourceLocation: Sendable, Equatable {
    var line: Int
    var column: Int
}
