import Foundation
import ShiftAddGrammar

/// `response_format` other than text: the output is any JSON object, or a document valid under a
/// JSON schema, enforced token by token (see ShiftAddGrammar).
public struct ResponseFormat: Sendable, Equatable {
    /// The canonical text of what is enforced, under which the server caches its constraint.
    public let key: String
    let grammar: Grammar

    public static func == (a: ResponseFormat, b: ResponseFormat) -> Bool { a.key == b.key }

    /// nil for an absent `response_format` or `{"type": "text"}`.
    static func parse(_ f: JSONFields) throws(APIError) -> ResponseFormat? {
        guard let format = try f.object("response_format") else { return nil }
        let typeName = format.name("type")
        switch try format.string("type") {
        case nil:
            throw .invalid("\(typeName) is required", param: typeName)
        case "text":
            return nil
        case "json_object":
            return ResponseFormat(key: "json_object", grammar: JSONSchemaCompiler.anyObject())
        case "json_schema":
            let name = format.name("json_schema")
            guard let spec = try format.object("json_schema") else { throw .invalid("\(name) is required", param: name) }
            // `name`, `description` and `strict` describe the schema; it is always enforced strictly.
            _ = try spec.string("name")
            _ = try spec.string("description")
            _ = try spec.bool("strict")
            let schemaName = spec.name("schema")
            guard let schema = spec.value("schema") else { throw .invalid("\(schemaName) is required", param: schemaName) }
            let grammar = try compile(schema, param: schemaName)
            return ResponseFormat(key: "json_schema:" + canonical(schema), grammar: grammar)
        case let other?:
            throw .invalid("\(typeName) must be one of text, json_object, json_schema; got \"\(other)\"", param: typeName)
        }
    }

    /// A schema compiled, or a 400 naming the keyword at fault under `param`.
    static func compile(_ schema: Any, param: String) throws(APIError) -> Grammar {
        do {
            return try JSONSchemaCompiler.compile(schema)
        } catch {
            let field = error.path.isEmpty ? param : "\(param).\(error.path)"
            throw .invalid("\(field): \(error.message)", param: field)
        }
    }

    /// JSON text with sorted keys: equal schemas give equal keys.
    static func canonical(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed,
                                                                                  .withoutEscapingSlashes]) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
