/// The tests (`value is name(args)`) available to templates, with jinja2's semantics. Unknown names
/// are rejected when the template is parsed.
enum TestPredicates {
    typealias Implementation = @Sendable (Interpreter, Value, Arguments) throws -> Bool

    static let table: [String: Implementation] = [
        "defined": unary { !$0.isUndefined },
        "undefined": unary { $0.isUndefined },
        "none": unary { $0.isNone },
        "boolean": unary { if case .bool = $0 { true } else { false } },
        "true": unary { if case .bool(true) = $0 { true } else { false } },
        "false": unary { if case .bool(false) = $0 { true } else { false } },
        "integer": unary { if case .int = $0 { true } else { false } },
        "float": unary { if case .double = $0 { true } else { false } },
        "number": unary { Operators.number($0) != nil },
        "string": unary { if case .string = $0 { true } else { false } },
        "mapping": unary { if case .dict = $0 { true } else { false } },
        "iterable": unary { (try? Operators.iterate($0)) != nil },
        "sequence": unary { (try? Operators.length($0)) != nil },
        "callable": unary {
            switch $0 {
            case .function, .undefined, .loop: true
            default: false
            }
        },
        "lower": unary { hasCasedLetters(ValueFormatting.str($0), upper: false) },
        "upper": unary { hasCasedLetters(ValueFormatting.str($0), upper: true) },
        "odd": unary { try isRemainder(of: $0, dividedBy: .int(2), equalTo: 1) },
        "even": unary { try isRemainder(of: $0, dividedBy: .int(2), equalTo: 0) },
        "divisibleby": binary("divisibleby") { try isRemainder(of: $0, dividedBy: $1, equalTo: 0) },
        "eq": comparison(.equal), "equalto": comparison(.equal), "==": comparison(.equal),
        "ne": comparison(.notEqual), "!=": comparison(.notEqual),
        "lt": comparison(.less), "lessthan": comparison(.less), "<": comparison(.less),
        "le": comparison(.lessOrEqual), "<=": comparison(.lessOrEqual),
        "gt": comparison(.greater), "greaterthan": comparison(.greater), ">": comparison(.greater),
        "ge": comparison(.greaterOrEqual), ">=": comparison(.greaterOrEqual),
        "in": comparison(.isIn),
    ]

    private static func unary(_ test: @escaping @Sendable (Value) throws -> Bool) -> Implementation {
        { _, value, arguments in
            _ = try arguments.bind([], function: "test")
            return try test(value)
        }
    }

    private static func binary(
        _ name: String, _ test: @escaping @Sendable (Value, Value) throws -> Bool
    ) -> Implementation {
        { _, value, arguments in
            let slots = try arguments.bind(["other"], function: name)
            guard let other = slots[0] else { throw TemplateError.runtime("test '\(name)' needs an argument") }
            return try test(value, other)
        }
    }

    private static func comparison(_ operation: ComparisonOperator) -> Implementation {
        binary(operation.rawValue) { try Operators.compare(operation, $0, $1) }
    }

    private static func isRemainder(of value: Value, dividedBy divisor: Value, equalTo expected: Int) throws -> Bool {
        let remainder = try Operators.binary(.modulo, value, divisor, limits: RenderLimits())
        return Operators.equal(remainder, .int(expected))
    }

    /// Python's `str.islower()`/`isupper()`: some cased letter, and none of the other case.
    private static func hasCasedLetters(_ text: String, upper: Bool) -> Bool {
        var sawCased = false
        for scalar in text.unicodeScalars where scalar.properties.isCased {
            if upper ? scalar.properties.isLowercase : scalar.properties.isUppercase { return false }
            if scalar.properties.generalCategory == .titlecaseLetter { return false }
            sawCased = true
        }
        return sawCased
    }
}
