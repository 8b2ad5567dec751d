/// The parsed form of a template: statements (`Node`) containing expressions (`Expression`).

enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
}

enum UnaryOperator: Sendable { case negate, plus }

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case isIn = "in", notIn = "not in"
}

struct CallArguments: Sendable {
    var positional: [Expression] = []
    var keywords: [(name: String, value: Expression)] = []
}

indirect enum ExpressionKind: Sendable {
    case constant(Constant)
    case name(String)
    case list([Expression])
    case tuple([Expression])
    case dict([(key: Expression, value: Expression)])
    case attribute(Expression, String)
    case item(Expression, Expression)
    /// Only valid as the argument of `.item`: `start:stop:step`.
    case slice(Expression?, Expression?, Expression?)
    case call(Expression, CallArguments)
    case filter(Expression, name: String, CallArguments)
    case test(Expression, name: String, CallArguments)
    case unary(UnaryOperator, Expression)
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)
    /// `a ~ b ~ c`: string conversion of every operand, joined.
    case concat([Expression])
    /// Python-style chained comparison: `a < b <= c`.
    case compare(Expression, [(ComparisonOperator, Expression)])
    case and(Expression, Expression)
    case or(Expression, Expression)
    /// `then if test else otherwise`; a missing `else` yields undefined.
    case conditional(test: Expression, then: Expression, otherwise: Expression?)
}

struct Expression: Sendable {
    let kind: ExpressionKind
    let location: SourceLocation
}

/// The left side of `set` and `for`.
indirect enum AssignTarget: Sendable {
    case name(String)
    case tuple([AssignTarget])
    /// `ns.attribute`, allowed only on a `namespace()` object.
    case namespaceAttribute(String, String)
}

/// A filter applied by `{% filter %}` blocks and `{% set x | filter %}` blocks.
struct FilterCall: Sendable {
    let name: String
    let arguments: CallArguments
    let location: SourceLocation
}

struct ForLoop: Sendable {
    let target: AssignTarget
    let iterable: Expression
    let condition: Expression?
    let body: [Node]
    let otherwise: [Node]
    let location: SourceLocation
}

struct MacroDefinition: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expression?)]
    let body: [Node]
    let location: SourceLocation
}

enum LoopControl: Sendable { case breakLoop, continueLoop }

indirect enum Node: Sendable {
    case text(String)
    case output(Expression)
    case forLoop(ForLoop)
    /// `if`/`elif` branches in order, then the `else` body.
    case conditional([(test: Expression, body: [Node])], otherwise: [Node])
    case assign(AssignTarget, Expression, SourceLocation)
    case assignBlock(AssignTarget, [FilterCall], [Node], SourceLocation)
    case macro(MacroDefinition)
    case filterBlock([FilterCall], [Node], SourceLocation)
    case loopControl(LoopControl, SourceLocation)
}
