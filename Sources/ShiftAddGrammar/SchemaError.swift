/// A schema the compiler cannot enforce; `path` names the keyword at fault, e.g.
/// `properties.name.pattern`, relative to the schema's root.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var path: String

    public init(_ message: String, path: String) {
        self.message = message
        self.path = path
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
