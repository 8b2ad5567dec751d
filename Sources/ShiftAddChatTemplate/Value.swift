/// A run-time value, modelled on the Python objects jinja2 templates see.
enum Value {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(Dict)
    case namespace(Namespace)
    case loop(LoopContext)
    case function(Function)

    static func undefined(_ message: String) -> Value { .undefined(Undefined(message: message)) }

    /// Python's type name, used in error messages.
    var typeName: String {
        switch self {
        case .undefined: "Undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .namespace: "Namespace"
        case .loop: "LoopContext"
        case .function: "builtin_function_or_method"
        }
    }

    /// How jinja2 names the type of an object that lacks an attribute.
    var objectDescription: String {
        switch self {
        case .none: "None"
        case .namespace: "jinja2.utils.Namespace object"
        case .loop: "jinja2.runtime.LoopContext object"
        default: "\(typeName) object"
        }
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python truthiness; undefined is false.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .string(let value): !value.isEmpty
        case .list(let items), .tuple(let items): !items.isEmpty
        case .dict(let dict): dict.count > 0
        case .namespace, .loop, .function: true
        }
    }

    /// The value as a Python number, with `bool` counting as an integer.
    var integerValue: Int? {
        switch self {
        case .int(let value): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    init(_ value: TemplateValue) {
        switch value {
        case .none: self = .none
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let items): self = .list(items.map(Value.init))
        case .dict(let entries):
            var dict = Dict()
            for (key, item) in entries { dict.set(key, Value(item)) }
            self = .dict(dict)
        }
    }
}

/// jinja2's default `Undefined`: prints as "", is false, iterates as empty, and fails with `message`
/// when used in arithmetic, called, or looked into.
struct Undefined {
    let message: String

    var error: TemplateError { .runtime(message) }
}

/// Mutable attribute bag made by `namespace(...)`; the one object `set ns.attr = ...` may change.
final class Namespace {
    var attributes: Dict

    init(attributes: Dict) {
        self.attributes = attributes
    }
}

/// A callable: a global like `range`, or a method bound to its receiver like `'abc'.upper`.
struct Function {
    let name: String
    let call: (Interpreter, Arguments) throws -> Value
}
