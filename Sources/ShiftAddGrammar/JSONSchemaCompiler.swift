import Foundation

/// Compiles a JSON Schema (as `JSONSerialization` parses it) into a `Grammar`: the subset OpenAI's
/// strict structured outputs accept. `type` object/array/string/number/integer/boolean/null (or a
/// list of them), `properties`, `required`, `additionalProperties`, `items`, `minItems`,
/// `maxItems`, `enum`, `const`, `anyOf`, `$ref` into `$defs`/`definitions`; annotations such as
/// `description` are ignored. Any other keyword is refused by name.
///
/// An object with declared properties only ever gets those keys (whatever `additionalProperties`
/// says), in any order; an object without properties takes any keys with values of
/// `additionalProperties` (any JSON value when absent or true).
public struct JSONSchemaCompiler {
    static let annotations: Set<String> = ["description", "title", "$schema", "$id", "$comment", "default", "examples",
                                           "deprecated", "readOnly", "writeOnly"]
    static let supported: Set<String> = ["type", "properties", "required", "additionalProperties", "items", "minItems",
                                         "maxItems", "enum", "const", "anyOf", "$ref", "$defs", "definitions"]
    static let maxNodes = 4096

    private var nodes: [Grammar.Node] = []
    private let document: [String: Any]
    /// `$ref` targets already compiled or being compiled, by reference text.
    private var refs: [String: Int] = [:]
    private var anyValue: Int?
    private var stringNode: Int?

    private init(document: [String: Any]) {
        self.document = document
    }

    /// The grammar of documents valid under `schema`, whose root must be an object (or a choice of objects).
    public static func compile(_ schema: Any) throws(SchemaError) -> Grammar {
        guard let object = schema as? [String: Any] else { throw SchemaError("the schema must be an object", path: "") }
        var compiler = JSONSchemaCompiler(document: object)
        let root = try compiler.node(object, path: "")
        return try compiler.finish(root: root)
    }

    /// Any JSON object: `response_format` `json_object`.
    public static func anyObject() -> Grammar {
        var compiler = JSONSchemaCompiler(document: [:])
        let any = compiler.any()
        let root = compiler.add(.object(ObjectShape(keys: LiteralTrie([]), values: [], required: 0, additional: any,
                                                    keyString: compiler.string())))
        return try! compiler.finish(root: root)
    }

    /// One call of one of `tools` (name, parameters schema): `{"name": NAME, "arguments": {...}}`.
    /// `path(i)` names the i-th tool's parameters in errors.
    public static func toolCall(_ tools: [(name: String, parameters: Any)],
                                path: (Int) -> String) throws(SchemaError) -> Grammar {
        var compiler = JSONSchemaCompiler(document: [:])
        var calls: [Int] = []
        for (i, tool) in tools.enumerated() {
            guard let parameters = tool.parameters as? [String: Any] else {
                throw SchemaError("must be a JSON Schema object", path: path(i))
            }
            var inner = JSONSchemaCompiler(document: parameters)
            inner.nodes = compiler.nodes
            let arguments: Int
            do {
                arguments = try inner.node(parameters, path: "")
            } catch {
                throw SchemaError(error.message, path: path(i) + (error.path.isEmpty ? "" : "." + error.path))
            }
            compiler.nodes = inner.nodes
            guard compiler.isObject(arguments) else {
                throw SchemaError("must describe an object (\"type\": \"object\")", path: path(i))
            }
            let name = compiler.add(.literals(LiteralTrie([Array(JSONText.string(tool.name).utf8)])))
            let keys = LiteralTrie([Array("\"name\"".utf8), Array("\"arguments\"".utf8)])
            calls.append(compiler.add(.object(ObjectShape(keys: keys, values: [name, arguments], required: 0b11,
                                                          additional: nil, keyString: compiler.string()))))
        }
        let root = calls.count == 1 ? calls[0] : compiler.add(.anyOf(calls))
        return try compiler.finish(root: root)
    }

    private func finish(root: Int) throws(SchemaError) -> Grammar {
        guard isObject(root) else { throw SchemaError("the root must be an object (\"type\": \"object\")", path: "type") }
        let grammar = Grammar(nodes: nodes, root: root)
        guard grammar.isFinite else { throw SchemaError("the schema has no finite instance (required recursion)", path: "$ref") }
        return grammar
    }

    /// Whether every text of `node` is an object.
    private func isObject(_ node: Int) -> Bool {
        var seen: Set<Int> = []
        func check(_ n: Int) -> Bool {
            guard seen.insert(n).inserted else { return true }
            switch nodes[n] {
            case .object: return true
            case .anyOf(let alternatives): return alternatives.allSatisfy(check)
            default: return false
            }
        }
        return check(node)
    }

    private mutating func add(_ node: Grammar.Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    private mutating func string() -> Int {
        if let stringNode { return stringNode }
        stringNode = add(.string)
        return stringNode!
    }

    /// Any JSON value.
    private mutating func any() -> Int {
        if let anyValue { return anyValue }
        let slot = add(.anyOf([]))
        anyValue = slot
        let object = add(.object(ObjectShape(keys: LiteralTrie([]), values: [], required: 0, additional: slot,
                                             keyString: string())))
        let array = add(.array(items: slot, minItems: 0, maxItems: Int.max))
        let constants = add(.literals(LiteralTrie(["true", "false", "null"].map { Array($0.utf8) })))
        nodes[slot] = .anyOf([object, array, string(), add(.number(integerOnly: false)), constants])
        return slot
    }

    private mutating func node(_ schema: Any, path: String) throws(SchemaError) -> Int {
        func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        if let b = schema as? NSNumber, JSONText.isBoolean(b) {
            guard b.boolValue else { throw SchemaError("a false schema accepts nothing", path: path) }
            return any()
        }
        guard let s = schema as? [String: Any] else { throw SchemaError("must be a schema object", path: path) }
        guard nodes.count < Self.maxNodes else { throw SchemaError("the schema is too large", path: path) }
        for key in s.keys.sorted() where !Self.supported.contains(key) && !Self.annotations.contains(key) {
            throw SchemaError("the keyword `\(key)` is not supported", path: at(key))
        }
        if let ref = s["$ref"] {
            guard s.keys.allSatisfy({ $0 == "$ref" || Self.annotations.contains($0) || $0 == "$defs" || $0 == "definitions" })
            else { throw SchemaError("`$ref` cannot be combined with other keywords", path: at("$ref")) }
            return try reference(ref, path: at("$ref"))
        }
        if let values = s["const"] {
            return add(.literals(LiteralTrie([Array(try JSONText.encode(values, path: at("const")).utf8)])))
        }
        if let values = s["enum"] {
            guard let list = values as? [Any], !list.isEmpty else {
                throw SchemaError("must be a non-empty array", path: at("enum"))
            }
            var texts: [[UInt8]] = []
            for (i, v) in list.enumerated() { texts.append(Array(try JSONText.encode(v, path: at("enum[\(i)]")).utf8)) }
            return add(.literals(LiteralTrie(texts)))
        }
        if let alternatives = s["anyOf"] {
            guard let list = alternatives as? [Any], !list.isEmpty else {
                throw SchemaError("must be a non-empty array of schemas", path: at("anyOf"))
            }
            var nodes: [Int] = []
            for (i, alternative) in list.enumerated() { nodes.append(try node(alternative, path: at("anyOf[\(i)]"))) }
            return nodes.count == 1 ? nodes[0] : add(.anyOf(nodes))
        }
        guard let type = s["type"] else { return any() }
        if let types = type as? [Any] {
            var alternatives: [Int] = []
            for (i, t) in types.enumerated() {
                guard let name = t as? String else { throw SchemaError("must be a type name", path: at("type[\(i)]")) }
                alternatives.append(try typed(name, s, path: path, typePath: at("type[\(i)]")))
            }
            guard !alternatives.isEmpty else { throw SchemaError("must name at least one type", path: at("type")) }
            return alternatives.count == 1 ? alternatives[0] : add(.anyOf(alternatives))
        }
        guard let name = type as? String else { throw SchemaError("must be a type name or an array of them", path: at("type")) }
        return try typed(name, s, path: path, typePath: at("type"))
    }

    private mutating func typed(_ type: String, _ s: [String: Any], path: String, typePath: String) throws(SchemaError) -> Int {
        func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch type {
        case "string": return string()
        case "number": return add(.number(integerOnly: false))
        case "integer": return add(.number(integerOnly: true))
        case "boolean": return add(.literals(LiteralTrie([Array("true".utf8), Array("false".utf8)])))
        case "null": return add(.literals(LiteralTrie([Array("null".utf8)])))
        case "array":
            let minItems = try count(s["minItems"], path: at("minItems")) ?? 0
            let maxItems = try count(s["maxItems"], path: at("maxItems")) ?? Int.max
            guard minItems <= maxItems else { throw SchemaError("minItems exceeds maxItems", path: at("minItems")) }
            let items = try s["items"].map { (v) throws(SchemaError) in try node(v, path: at("items")) } ?? any()
            return add(.array(items: items, minItems: minItems, maxItems: maxItems))
        case "object":
            return try object(s, path: path)
        default:
            throw SchemaError("unknown type `\(type)`", path: typePath)
        }
    }

    private mutating func object(_ s: [String: Any], path: String) throws(SchemaError) -> Int {
        func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        let properties: [String: Any]
        if let p = s["properties"] {
            guard let dict = p as? [String: Any] else { throw SchemaError("must be an object", path: at("properties")) }
            properties = dict
        } else {
            properties = [:]
        }
        guard properties.count <= ObjectShape.maxProperties else {
            throw SchemaError("at most \(ObjectShape.maxProperties) properties are supported", path: at("properties"))
        }
        var required: [String] = []
        if let r = s["required"] {
            guard let list = r as? [Any], list.allSatisfy({ $0 is String }) else {
                throw SchemaError("must be an array of property names", path: at("required"))
            }
            required = list.map { $0 as! String }
        }
        if properties.isEmpty {
            guard required.isEmpty else {
                throw SchemaError("names properties that are not declared in `properties`", path: at("required"))
            }
            let additional: Int?
            switch s["additionalProperties"] {
            case nil: additional = any()
            case let b as NSNumber where JSONText.isBoolean(b): additional = b.boolValue ? any() : nil
            case let schema?: additional = try node(schema, path: at("additionalProperties"))
            }
            return add(.object(ObjectShape(keys: LiteralTrie([]), values: [], required: 0, additional: additional,
                                           keyString: string())))
        }
        if let a = s["additionalProperties"] {
            if !(a is NSNumber), !(a is [String: Any]) {
                throw SchemaError("must be a boolean or a schema", path: at("additionalProperties"))
            }
        }
        let names = properties.keys.sorted()
        var values: [Int] = []
        for name in names { values.append(try node(properties[name]!, path: at("properties.\(name)"))) }
        var mask: UInt64 = 0
        for name in required {
            guard let i = names.firstIndex(of: name) else {
                throw SchemaError("names `\(name)`, which is not in `properties`", path: at("required"))
            }
            mask |= 1 << UInt64(i)
        }
        let keys = LiteralTrie(names.map { Array(JSONText.string($0).utf8) })
        return add(.object(ObjectShape(keys: keys, values: values, required: mask, additional: nil, keyString: string())))
    }

    private mutating func reference(_ ref: Any, path: String) throws(SchemaError) -> Int {
        guard let text = ref as? String else { throw SchemaError("must be a string", path: path) }
        if let known = refs[text] { return known }
        let target: Any
        if text == "#" {
            target = document
        } else {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[0] == "#", parts[1] == "$defs" || parts[1] == "definitions",
                  let defs = document[parts[1]] as? [String: Any], let found = defs[parts[2]] else {
                throw SchemaError("`\(text)` does not name an entry of `$defs` or `definitions`", path: path)
            }
            target = found
        }
        // Reserve the slot first so recursive references find it.
        let slot = add(.anyOf([]))
        refs[text] = slot
        let resolved = try node(target, path: text == "#" ? "" : text.dropFirst(2).replacingOccurrences(of: "/", with: "."))
        nodes[slot] = .anyOf([resolved])
        return slot
    }

    private func count(_ v: Any?, path: String) throws(SchemaError) -> Int? {
        guard let v else { return nil }
        guard let n = v as? NSNumber, !JSONText.isBoolean(n), n.doubleValue >= 0, n.doubleValue == n.doubleValue.rounded(),
              n.doubleValue < 1e9 else { throw SchemaError("must be a non-negative integer", path: path) }
        return n.intValue
    }
}
