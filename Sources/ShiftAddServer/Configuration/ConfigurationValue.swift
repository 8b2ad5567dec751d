/// One setting as a source gave it, before it is checked: flags and environment variables give
/// text; a config file may also give a list, null, or a JSON value no option accepts.
enum ConfigurationValue: Equatable, Sendable {
    case text(String)
    case list([String])
    case null
    /// A JSON boolean, object or mixed array, kept as written for the error message.
    case unsupported(String)

    /// The value as the user wrote it, for error messages.
    var display: String {
        switch self {
        case let .text(s): s
        case let .list(items): "[" + items.map { LogLineFormatter.jsonString($0) }.joined(separator: ", ") + "]"
        case .null: "null"
        case let .unsupported(s): s
        }
    }
}
