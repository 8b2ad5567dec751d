/// Attribute and item lookup with jinja2's rules: `a.b` tries an attribute (a method) before an item,
/// `a['b']` tries the item first; a miss gives undefined, but looking into an undefined value fails.
/// Mutating methods (`list.append`, `dict.update`, ...) are refused as by jinja2's immutable sandbox.
enum Access {
    private static let unsafeMethods: [String: Set<String>] = [
        "list": ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"],
        "dict": ["clear", "pop", "popitem", "setdefault", "update"],
    ]

    static func attribute(_ object: Value, _ name: String) throws -> Value {
        if case .undefined(let undefined) = object { throw undefined.error }
        if let value = try method(object, name) { return value }
        switch object {
        case .dict(let dict): if let value = dict[name] { return value }
        case .namespace(let namespace): if let value = namespace.attributes[name] { return value }
        case .loop(let loop): if let value = loop.attribute(name) { return value }
        default: break
        }
        return missing(object, .string(name))
    }

    static func item(_ object: Value, _ key: Value) throws -> Value {
        if case .undefined(let undefined) = object { throw undefined.error }
        switch (object, key) {
        case let (.dict(dict), _):
            if let value = dict[key] { return value }
        case let (.list(items), _), let (.tuple(items), _):
            if let index = key.integerValue, let position = resolve(index, count: items.count) {
                return items[position]
            }
        case let (.string(text), _):
            if let index = key.integerValue {
                let scalars = Array(text.unicodeScalars)
                if let position = resolve(index, count: scalars.count) { return .string(String(scalars[position])) }
            }
        default:
            break
        }
        if case .string(let name) = key {
            if let value = try method(object, name) { return value }
            switch object {
            case .namespace(let namespace): if let value = namespace.attributes[name] { return value }
            case .loop(let loop): if let value = loop.attribute(name) { return value }
            default: break
            }
        }
        return missing(object, key)
    }

    private static func resolve(_ index: Int, count: Int) -> Int? {
        let position = index < 0 ? index + count : index
        return position >= 0 && position < count ? position : nil
    }

    private static func missing(_ object: Value, _ key: Value) -> Value {
        if case .string(let name) = key {
            return .undefined(ValueFormatting.quoted(object.objectDescription) + " has no attribute "
                                  + ValueFormatting.quoted(name))
        }
        return .undefined(object.objectDescription + " has no element " + ValueFormatting.repr(key))
    }

    private static func method(_ object: Value, _ name: String) throws -> Value? {
        if let unsafe = unsafeMethods[object.typeName], unsafe.contains(name) {
            return .undefined("access to attribute '\(name)' of '\(object.typeName)' object is unsafe.")
        }
        switch object {
        case .string(let text): return StringMethods.method(text, name)
        case .dict(let dict): return dictionaryMethod(dict, name)
        default: return nil
        }
    }

    private static func dictionaryMethod(_ dict: Dict, _ name: String) -> Value? {
        switch name {
        case "items":
            return .function(Function(name: name) { _, arguments in
                _ = try arguments.bind([], function: name)
                return .list(dict.entries.map { .tuple([$0.0, $0.1]) })
            })
        case "keys":
            return .function(Function(name: name) { _, arguments in
                _ = try arguments.bind([], function: name)
                return .list(dict.keys)
            })
        case "values":
            return .function(Function(name: name) { _, arguments in
                _ = try arguments.bind([], function: name)
                return .list(dict.values)
            })
        case "get":
            return .function(Function(name: name) { _, arguments in
                let slots = try arguments.bind(["key", "default"], function: name)
                guard let key = slots[0] else { throw TemplateError.runtime("get expected at least 1 argument, got 0") }
                try Dict.checkHashable(key)
                return dict[key] ?? slots[1] ?? .none
            })
        default:
            return nil
        }
    }

    /// `sequence[start:stop:step]` with Python's clamping of out-of-range bounds.
    static func slice(_ object: Value, start: Value, stop: Value, step: Value) throws -> Value {
        if case .undefined(let undefined) = object { throw undefined.error }
        func bound(_ value: Value) throws -> Int? {
            if case .none = value { return nil }
            guard let number = value.integerValue else {
                throw TemplateError.runtime("slice indices must be integers or None or have an __index__ method")
            }
            return number
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw TemplateError.runtime("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            let (lower, upper) = stride > 0 ? (0, count) : (-1, count - 1)
            func clamp(_ value: Int?, default fallback: Int) -> Int {
                guard var value else { return fallback }
                if value < 0 {
                    value += count
                    return value < 0 ? lower : value
                }
                return value >= upper ? upper : value
            }
            let first = clamp(try bound(start), default: stride > 0 ? lower : upper)
            let last = clamp(try bound(stop), default: stride > 0 ? upper : lower)
            var result: [Int] = []
            var index = first
            while stride > 0 ? index < last : index > last {
                result.append(index)
                index += stride
            }
            return result
        }
        switch object {
        case .list(let items): return .list(try indices(items.count).map { items[$0] })
        case .tuple(let items): return .tuple(try indices(items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            return .string(PythonText.string(try indices(scalars.count).map { scalars[$0] }))
        case .dict:
            throw TemplateError.runtime("unhashable type: 'slice'")
        default:
            // jinja2 turns this failure into an undefined value that fails only when used.
            return .undefined("'\(object.typeName)' object is not subscriptable")
        }
    }
}
