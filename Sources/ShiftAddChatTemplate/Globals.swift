import Foundation

/// Functions every template can call: jinja2's `range`, `namespace` and `dict`, and Hugging Face's
/// `raise_exception` and `strftime_now`.
enum Globals {
    /// jinja2's sandbox refuses larger ranges.
    static let maxRange = 100_000

    static func install(into scope: Scope) {
        let functions: [String: (Interpreter, Arguments) throws -> Value] = [
            "range": { _, arguments in try range(arguments) },
            "namespace": { interpreter, arguments in
                try interpreter.checkBuilt(interpreter.adopt(Namespace(attributes: try mapping(arguments, "namespace"))))
            },
            "dict": { interpreter, arguments in try interpreter.checkBuilt(.dict(try mapping(arguments, "dict"))) },
            "raise_exception": { _, arguments in
                let slots = try arguments.bind(["message"], function: "raise_exception")
                throw TemplateError(kind: .raised, message: slots[0].map(ValueFormatting.str) ?? "")
            },
            "strftime_now": { _, arguments in
                let slots = try arguments.bind(["format"], function: "strftime_now")
                guard case .string(let format)? = slots[0] else {
                    throw TemplateError.runtime("strftime_now() argument must be str")
                }
                return .string(try formatNow(format))
            },
        ]
        for (name, call) in functions { scope.set(name, .function(Function(name: name, call: call))) }
    }

    private static func range(_ arguments: Arguments) throws -> Value {
        guard arguments.keywords.isEmpty else { throw TemplateError.runtime("range() takes no keyword arguments") }
        let numbers = try arguments.positional.map { value in
            guard let number = value.integerValue else {
                throw TemplateError.runtime("'\(value.typeName)' object cannot be interpreted as an integer")
            }
            return number
        }
        let (start, stop, step): (Int, Int, Int)
        switch numbers.count {
        case 1: (start, stop, step) = (0, numbers[0], 1)
        case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw TemplateError.runtime("range expected 1 to 3 arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw TemplateError.runtime("range() arg 3 must not be zero") }
        let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
        let count = span <= 0 ? 0 : Int((span / Double(abs(step))).rounded(.up))
        guard count <= maxRange else {
            throw TemplateError.runtime(
                "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
        }
        return .list((0..<count).map { .int(start + $0 * step) })
    }

    /// `dict(...)`/`namespace(...)` arguments: an optional mapping or list of pairs, then keywords.
    private static func mapping(_ arguments: Arguments, _ function: String) throws -> Dict {
        guard arguments.positional.count <= 1 else {
            throw TemplateError.runtime("\(function) expected at most 1 argument, got \(arguments.positional.count)")
        }
        var result = Dict()
        switch arguments.positional.first {
        case nil: break
        case .dict(let dict)?: result = dict
        case let value?:
            for pair in try Operators.iterate(value) {
                let items = try Operators.iterate(pair)
                guard items.count == 2 else {
                    throw TemplateError.runtime("\(function) update sequence element has length \(items.count); 2 is required")
                }
                try result.set(items[0], items[1])
            }
        }
        for (name, value) in arguments.keywords { result.set(name, value) }
        return result
    }

    /// Python's `datetime.now().strftime(format)`, in local time.
    private static func formatNow(_ format: String) throws -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = strftime(&buffer, buffer.count, format, &parts)
        guard length > 0 || format.isEmpty else { throw TemplateError.runtime("strftime_now: format produced no text") }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
