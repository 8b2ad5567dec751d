import Foundation

/// Python semantics for comparison, membership, iteration and arithmetic on values. Using an undefined
/// value in arithmetic or ordering fails with its message, as jinja2's `Undefined` does.
enum Operators {
    static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(x), .string(y)): return PythonText.equal(x, y)
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.dict(x), .dict(y)):
            guard x.count == y.count else { return false }
            return x.entries.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        case let (.namespace(x), .namespace(y)): return x === y
        case let (.loop(x), .loop(y)): return x === y
        default:
            if let x = a.integerValue, let y = b.integerValue { return x == y }
            if let x = number(a), let y = number(b) { return x == y && !isMixedPrecisionMismatch(a, b) }
            return false
        }
    }

    /// An `Int` and a `Double` are equal only if the double holds exactly that integer.
    private static func isMixedPrecisionMismatch(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case let (.double(d), other), let (other, .double(d)):
            guard let integer = other.integerValue else { return false }
            return Int(exactly: d) != integer
        default: return false
        }
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .bool(let flag): flag ? 1 : 0
        case .double(let number): number
        default: nil
        }
    }

    static func compare(_ operation: ComparisonOperator, _ a: Value, _ b: Value) throws -> Bool {
        switch operation {
        case .equal: return equal(a, b)
        case .notEqual: return !equal(a, b)
        case .isIn: return try contains(b, a)
        case .notIn: return try !contains(b, a)
        case .less: return try less(a, b, operation)
        case .greater: return try less(b, a, operation, swapped: true)
        case .lessOrEqual: return try !less(b, a, operation, swapped: true) && orderable(a, b)
        case .greaterOrEqual: return try !less(a, b, operation) && orderable(a, b)
        }
    }

    /// `<=`/`>=` are false when a NaN is involved, which `!less` alone would not give.
    private static func orderable(_ a: Value, _ b: Value) -> Bool {
        if let x = number(a), let y = number(b) { return !x.isNaN && !y.isNaN }
        return true
    }

    /// `a < b`; `operation` and `swapped` only shape the error message, which names the operands in the
    /// order the template wrote them.
    static func less(
        _ a: Value, _ b: Value, _ operation: ComparisonOperator = .less, swapped: Bool = false
    ) throws -> Bool {
        if case .undefined(let undefined) = a { throw undefined.error }
        if case .undefined(let undefined) = b { throw undefined.error }
        if let x = a.integerValue, let y = b.integerValue { return x < y }
        if let x = number(a), let y = number(b) { return x < y }
        switch (a, b) {
        case let (.string(x), .string(y)): return PythonText.less(x, y)
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
            for (left, right) in zip(x, y) where !equal(left, right) {
                return try less(left, right, operation, swapped: swapped)
            }
            return x.count < y.count
        default:
            let (first, second) = swapped ? (b, a) : (a, b)
            throw TemplateError.runtime("'\(operation.rawValue)' not supported between instances of "
                                            + "'\(first.typeName)' and '\(second.typeName)'")
        }
    }

    /// `item in container`.
    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .string(let text):
            guard case .string(let needle) = item else {
                throw TemplateError.runtime("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return PythonText.contains(text, needle)
        case .list(let items), .tuple(let items): return items.contains { equal($0, item) }
        case .dict(let dict):
            try Dict.checkHashable(item)
            return dict[item] != nil
        case .undefined: return false
        default:
            throw TemplateError.runtime("argument of type '\(container.typeName)' is not iterable")
        }
    }

    /// The items a `for` loop (or `list()`) visits: list items, string characters, dictionary keys.
    static func iterate(_ value: Value) throws -> [Value] {
        switch value {
        case .list(let items), .tuple(let items): return items
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .dict(let dict): return dict.keys
        case .undefined: return []
        default: throw TemplateError.runtime("'\(value.typeName)' object is not iterable")
        }
    }

    static func length(_ value: Value) throws -> Int {
        switch value {
        case .string(let text): return text.unicodeScalars.count
        case .list(let items), .tuple(let items): return items.count
        case .dict(let dict): return dict.count
        case .undefined: return 0
        default: throw TemplateError.runtime("object of type '\(value.typeName)' has no len()")
        }
    }

    // MARK: Arithmetic

    static func unary(_ operation: UnaryOperator, _ value: Value) throws -> Value {
        if case .undefined(let undefined) = value { throw undefined.error }
        if let integer = value.integerValue {
            guard operation == .negate else { return .int(integer) }
            guard integer != Int.min else { throw overflow() }
            return .int(-integer)
        }
        if case .double(let number) = value { return .double(operation == .negate ? -number : number) }
        let symbol = operation == .negate ? "-" : "+"
        throw TemplateError.runtime("bad operand type for unary \(symbol): '\(value.typeName)'")
    }

    static func binary(_ operation: BinaryOperator, _ a: Value, _ b: Value, limits: RenderLimits) throws -> Value {
        if case .undefined(let undefined) = a { throw undefined.error }
        if case .undefined(let undefined) = b { throw undefined.error }
        if let x = a.integerValue, let y = b.integerValue { return try integer(operation, x, y) }
        if let x = number(a), let y = number(b) { return try float(operation, x, y) }
        switch (operation, a, b) {
        case let (.add, .string(x), .string(y)):
            try limits.checkSize(x.utf8.count + y.utf8.count)
            return .string(x + y)
        case let (.add, .list(x), .list(y)):
            try limits.checkSize(x.count + y.count)
            return .list(x + y)
        case let (.add, .tuple(x), .tuple(y)):
            try limits.checkSize(x.count + y.count)
            return .tuple(x + y)
        case (.add, .string, _), (.add, .list, _), (.add, .tuple, _):
            throw TemplateError.runtime(
                "can only concatenate \(a.typeName) (not \"\(b.typeName)\") to \(a.typeName)")
        case (.multiply, _, _):
            if let result = try repeated(a, b, limits: limits) ?? repeated(b, a, limits: limits) { return result }
            for (sequence, other) in [(a, b), (b, a)] where isSequence(sequence) {
                throw TemplateError.runtime("can't multiply sequence by non-int of type '\(other.typeName)'")
            }
        default:
            break
        }
        let symbol = operation == .power ? "** or pow()" : operation.rawValue
        throw TemplateError.runtime("unsupported operand type(s) for \(symbol): '\(a.typeName)' and '\(b.typeName)'")
    }

    private static func isSequence(_ value: Value) -> Bool {
        switch value {
        case .string, .list, .tuple: true
        default: false
        }
    }

    /// `'ab' * 3` and `[1] * 3`.
    private static func repeated(_ sequence: Value, _ times: Value, limits: RenderLimits) throws -> Value? {
        guard let count = times.integerValue else { return nil }
        let copies = max(count, 0)
        switch sequence {
        case .string(let text):
            let (size, overflow) = text.utf8.count.multipliedReportingOverflow(by: copies)
            try limits.checkSize(overflow ? Int.max : size)
            return .string(String(repeating: text, count: copies))
        case .list(let items), .tuple(let items):
            let (size, overflow) = items.count.multipliedReportingOverflow(by: copies)
            try limits.checkSize(overflow ? Int.max : size)
            let result = Array([[Value]](repeating: items, count: copies).joined())
            if case .tuple = sequence { return .tuple(result) }
            return .list(result)
        default:
            return nil
        }
    }

    private static func overflow() -> TemplateError {
        .runtime("integer overflow")
    }

    private static func integer(_ operation: BinaryOperator, _ x: Int, _ y: Int) throws -> Value {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Value {
            if result.overflow { throw overflow() }
            return .int(result.partialValue)
        }
        switch operation {
        case .add: return try checked(x.addingReportingOverflow(y))
        case .subtract: return try checked(x.subtractingReportingOverflow(y))
        case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
        case .divide:
            guard y != 0 else { throw TemplateError.runtime("division by zero") }
            return .double(Double(x) / Double(y))
        case .floorDivide:
            guard y != 0 else { throw TemplateError.runtime("integer division or modulo by zero") }
            if x == Int.min && y == -1 { throw overflow() }
            let quotient = x / y
            return .int((x % y != 0) && ((x < 0) != (y < 0)) ? quotient - 1 : quotient)
        case .modulo:
            guard y != 0 else { throw TemplateError.runtime("integer modulo by zero") }
            if y == -1 { return .int(0) }
            let remainder = x % y
            return .int(remainder != 0 && ((remainder < 0) != (y < 0)) ? remainder + y : remainder)
        case .power:
            if y < 0 { return .double(pow(Double(x), Double(y))) }
            var result = 1
            var base = x
            var exponent = y
            while exponent > 0 {
                if exponent & 1 == 1 {
                    let (product, overflowed) = result.multipliedReportingOverflow(by: base)
                    if overflowed { throw overflow() }
                    result = product
                }
                exponent >>= 1
                if exponent > 0 {
                    let (square, overflowed) = base.multipliedReportingOverflow(by: base)
                    if overflowed { throw overflow() }
                    base = square
                }
            }
            return .int(result)
        }
    }

    private static func float(_ operation: BinaryOperator, _ x: Double, _ y: Double) throws -> Value {
        switch operation {
        case .add: return .double(x + y)
        case .subtract: return .double(x - y)
        case .multiply: return .double(x * y)
        case .divide:
            guard y != 0 else { throw TemplateError.runtime("float division by zero") }
            return .double(x / y)
        case .floorDivide:
            guard y != 0 else { throw TemplateError.runtime("float floor division by zero") }
            return .double(pythonFloatModulo(x, y).quotient)
        case .modulo:
            guard y != 0 else { throw TemplateError.runtime("float modulo") }
            return .double(pythonFloatModulo(x, y).remainder)
        case .power:
            if x == 0 && y < 0 {
                throw TemplateError.runtime("0.0 cannot be raised to a negative power")
            }
            if x < 0 && y.rounded() != y {
                throw TemplateError.runtime("complex results are not supported")
            }
            let result = pow(x, y)
            if result.isInfinite && x.isFinite && y.isFinite {
                throw TemplateError.runtime("(34, 'Numerical result out of range')")
            }
            return .double(result)
        }
    }

    /// CPython's `float_divmod`: remainder takes the divisor's sign, quotient is floored.
    private static func pythonFloatModulo(_ x: Double, _ y: Double) -> (quotient: Double, remainder: Double) {
        var remainder = fmod(x, y)
        var division = (x - remainder) / y
        if remainder != 0 {
            if (y < 0) != (remainder < 0) {
                remainder += y
                division -= 1
            }
        } else {
            remainder = copysign(0, y)
        }
        var quotient: Double
        if division != 0 {
            quotient = division.rounded(.down)
            if division - quotient > 0.5 { quotient += 1 }
        } else {
            quotient = copysign(0, x / y)
        }
        return (quotient, remainder)
    }
}
