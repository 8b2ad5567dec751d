/// Executes a parsed template for one render. Not shared between renders.
final class Interpreter {
    enum Flow { case normal, breakLoop, continueLoop }

    let limits: RenderLimits
    private var iterations = 0
    private var callDepth = 0
    /// Blocks and expressions being evaluated, macro bodies included: each is a few stack frames.
    private var depth = 0
    /// Scopes that hold macros, which refer back to them; cleared after the render to free the cycle.
    private var macroScopes: [Scope] = []
    /// Namespaces made by the render; one may come to hold itself, so they are emptied afterwards.
    private var namespaces: [Namespace] = []
    /// Items looked at by `checkBuilt`, counted against `limits.maxValueItemsChecked`.
    var valueItemsChecked = 0

    init(limits: RenderLimits) {
        self.limits = limits
    }

    func render(_ nodes: [Node], context: [String: Value]) throws -> String {
        let root = Scope(parent: nil)
        Globals.install(into: root)
        for (name, value) in context { root.set(name, value) }
        defer {
            for scope in macroScopes { scope.clear() }
            for namespace in namespaces { namespace.attributes = Dict() }
            root.clear()
        }
        var output = ""
        _ = try render(nodes, in: root, into: &output)
        return output
    }

    /// Registers a namespace the render made, so `render` can break the cycles it may end up in.
    func adopt(_ namespace: Namespace) -> Value {
        namespaces.append(namespace)
        return .namespace(namespace)
    }

    private func append(_ text: String, to output: inout String) throws {
        try limits.checkSize(output.utf8.count + text.utf8.count)
        output += text
    }

    private func render(_ nodes: [Node], in scope: Scope, into output: inout String) throws -> Flow {
        try enter()
        defer { depth -= 1 }
        for node in nodes {
            switch node {
            case .text(let text):
                try append(text, to: &output)
            case .output(let expression):
                try append(ValueFormatting.str(try evaluate(expression, in: scope)), to: &output)
            case .forLoop(let loop):
                let flow = try run(loop, in: scope, into: &output)
                if flow != .normal { return flow }
            case .conditional(let branches, let otherwise):
                var chosen = otherwise
                for branch in branches where try evaluate(branch.test, in: scope).isTruthy {
                    chosen = branch.body
                    break
                }
                let flow = try render(chosen, in: scope, into: &output)
                if flow != .normal { return flow }
            case .assign(let target, let expression, let location):
                let value = try evaluate(expression, in: scope)
                try located(location) { try assign(target, value, in: scope) }
            case .assignBlock(let target, let filters, let body, let location):
                var captured = ""
                let flow = try render(body, in: scope, into: &captured)
                if flow != .normal { return flow }
                let value = try apply(filters, to: .string(captured), in: scope)
                try located(location) { try assign(target, value, in: scope) }
            case .macro(let definition):
                macroScopes.append(scope)
                scope.set(definition.name, .function(Function(name: definition.name) { interpreter, arguments in
                    try interpreter.call(definition, arguments, closure: scope)
                }))
            case .filterBlock(let filters, let body, _):
                var captured = ""
                let flow = try render(body, in: scope, into: &captured)
                if flow != .normal { return flow }
                try append(ValueFormatting.str(try apply(filters, to: .string(captured), in: scope)), to: &output)
            case .loopControl(let control, _):
                return control == .breakLoop ? .breakLoop : .continueLoop
            }
        }
        return .normal
    }

    private func located<T>(_ location: SourceLocation, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TemplateError {
            throw error.located(at: location)
        }
    }

    private func countIteration() throws {
        iterations += 1
        if iterations > limits.maxLoopIterations {
            throw TemplateError.limit("loops ran more than \(limits.maxLoopIterations) iterations")
        }
    }

    private func run(_ loop: ForLoop, in scope: Scope, into output: inout String) throws -> Flow {
        var items = try located(loop.location) { try Operators.iterate(try evaluate(loop.iterable, in: scope)) }
        if let condition = loop.condition {
            items = try items.filter { item in
                try countIteration()
                let inner = Scope(parent: scope)
                try located(loop.location) { try assign(loop.target, item, in: inner) }
                return try evaluate(condition, in: inner).isTruthy
            }
        }
        if items.isEmpty { return try render(loop.otherwise, in: Scope(parent: scope), into: &output) }
        let context = LoopContext(items: items)
        for (index, item) in items.enumerated() {
            try countIteration()
            context.index0 = index
            let inner = Scope(parent: scope)
            try located(loop.location) { try assign(loop.target, item, in: inner) }
            inner.set("loop", .loop(context))
            if try render(loop.body, in: inner, into: &output) == .breakLoop { break }
        }
        return .normal
    }

    private func assign(_ target: AssignTarget, _ value: Value, in scope: Scope) throws {
        switch target {
        case .name(let name):
            scope.set(name, value)
        case .tuple(let targets):
            guard let items = try? Operators.iterate(value) else {
                throw TemplateError.runtime("cannot unpack non-iterable \(value.typeName) object")
            }
            guard items.count == targets.count else {
                throw TemplateError.runtime(items.count > targets.count
                    ? "too many values to unpack (expected \(targets.count))"
                    : "not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (inner, item) in zip(targets, items) { try assign(inner, item, in: scope) }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let namespace)? = scope.lookup(name) else {
                throw TemplateError.runtime("cannot assign attribute on non-namespace object")
            }
            namespace.attributes.set(attribute, value)
            try checkBuilt(.namespace(namespace))
        }
    }

    private func call(_ macro: MacroDefinition, _ arguments: Arguments, closure: Scope) throws -> Value {
        guard callDepth < limits.maxCallDepth else {
            throw TemplateError.limit("macro calls nested deeper than \(limits.maxCallDepth)")
        }
        callDepth += 1
        defer { callDepth -= 1 }
        let parameters = macro.parameters
        guard arguments.positional.count <= parameters.count else {
            throw TemplateError.runtime("macro '\(macro.name)' takes not more than \(parameters.count) argument(s)")
        }
        let scope = Scope(parent: closure)
        for (name, _) in arguments.keywords where !parameters.contains(where: { $0.name == name }) {
            throw TemplateError.runtime("macro '\(macro.name)' takes no keyword argument '\(name)'")
        }
        for (index, parameter) in parameters.enumerated() {
            if index < arguments.positional.count {
                scope.set(parameter.name, arguments.positional[index])
            } else if let keyword = arguments.keywords.last(where: { $0.name == parameter.name }) {
                scope.set(parameter.name, keyword.value)
            } else if let defaultValue = parameter.defaultValue {
                scope.set(parameter.name, try evaluate(defaultValue, in: scope))
            } else {
                scope.set(parameter.name, .undefined("parameter '\(parameter.name)' was not provided"))
            }
        }
        var output = ""
        _ = try render(macro.body, in: scope, into: &output)
        return .string(output)
    }

    private func apply(_ filters: [FilterCall], to value: Value, in scope: Scope) throws -> Value {
        var result = value
        for filter in filters {
            let arguments = try evaluate(filter.arguments, in: scope)
            result = try located(filter.location) { try applyFilter(filter.name, to: result, arguments) }
        }
        return result
    }

    private func applyFilter(_ name: String, to value: Value, _ arguments: Arguments) throws -> Value {
        guard let filter = Filters.table[name] else { throw TemplateError.runtime("no filter named '\(name)'") }
        return try filter(self, value, arguments)
    }

    private func evaluate(_ arguments: CallArguments, in scope: Scope) throws -> Arguments {
        Arguments(positional: try arguments.positional.map { try evaluate($0, in: scope) },
                  keywords: try arguments.keywords.map { ($0.name, try evaluate($0.value, in: scope)) })
    }

    func evaluate(_ expression: Expression, in scope: Scope) throws -> Value {
        try enter()
        defer { depth -= 1 }
        return try located(expression.location) { try evaluateKind(expression, in: scope) }
    }

    /// The parser bounds nesting within one template, but macro calls stack whole bodies on top of
    /// each other; this bounds the total, and with it the stack a render needs.
    private func enter() throws {
        guard depth < limits.maxDepth else {
            throw TemplateError.limit("blocks, expressions and macro calls nested deeper than \(limits.maxDepth)")
        }
        depth += 1
    }

    private func evaluateKind(_ expression: Expression, in scope: Scope) throws -> Value {
        switch expression.kind {
        case .constant(let constant):
            switch constant {
            case .none: return .none
            case .bool(let flag): return .bool(flag)
            case .int(let number): return .int(number)
            case .double(let number): return .double(number)
            case .string(let text): return .string(text)
            }
        case .name(let name):
            return scope.lookup(name) ?? .undefined(ValueFormatting.quoted(name) + " is undefined")
        case .list(let items):
            return try checkBuilt(.list(try items.map { try evaluate($0, in: scope) }))
        case .tuple(let items):
            return try checkBuilt(.tuple(try items.map { try evaluate($0, in: scope) }))
        case .dict(let entries):
            var dict = Dict()
            for (key, value) in entries { try dict.set(try evaluate(key, in: scope), try evaluate(value, in: scope)) }
            return try checkBuilt(.dict(dict))
        case .attribute(let object, let name):
            return try Access.attribute(try evaluate(object, in: scope), name)
        case .item(let object, let key):
            let target = try evaluate(object, in: scope)
            if case .slice(let start, let stop, let step) = key.kind {
                func bound(_ part: Expression?) throws -> Value { try part.map { try evaluate($0, in: scope) } ?? .none }
                return try Access.slice(target, start: try bound(start), stop: try bound(stop), step: try bound(step))
            }
            return try Access.item(target, try evaluate(key, in: scope))
        case .slice:
            throw TemplateError.runtime("a slice is only allowed inside '[...]'")
        case .call(let callee, let arguments):
            let function = try evaluate(callee, in: scope)
            let values = try evaluate(arguments, in: scope)
            switch function {
            case .function(let function): return try function.call(self, values)
            case .undefined(let undefined): throw undefined.error
            default: throw TemplateError.runtime("'\(function.typeName)' object is not callable")
            }
        case .filter(let subject, let name, let arguments):
            let value = try evaluate(subject, in: scope)
            return try applyFilter(name, to: value, try evaluate(arguments, in: scope))
        case .test(let subject, let name, let arguments):
            let value = try evaluate(subject, in: scope)
            let values = try evaluate(arguments, in: scope)
            guard let test = TestPredicates.table[name] else { throw TemplateError.runtime("no test named '\(name)'") }
            return .bool(try test(self, value, values))
        case .unary(let operation, let operand):
            return try Operators.unary(operation, try evaluate(operand, in: scope))
        case .not(let operand):
            return .bool(!(try evaluate(operand, in: scope).isTruthy))
        case .binary(let operation, let left, let right):
            let a = try evaluate(left, in: scope)
            let b = try evaluate(right, in: scope)
            let result = try Operators.binary(operation, a, b, limits: limits)
            switch result {
            case .list, .tuple: return try checkBuilt(result)
            default: return result
            }
        case .concat(let parts):
            var result = ""
            for part in parts {
                result += ValueFormatting.str(try evaluate(part, in: scope))
                try limits.checkSize(result.utf8.count)
            }
            return .string(result)
        case .compare(let first, let operations):
            var left = try evaluate(first, in: scope)
            for (operation, operand) in operations {
                let right = try evaluate(operand, in: scope)
                if !(try Operators.compare(operation, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let left, let right):
            let value = try evaluate(left, in: scope)
            return value.isTruthy ? try evaluate(right, in: scope) : value
        case .or(let left, let right):
            let value = try evaluate(left, in: scope)
            return value.isTruthy ? value : try evaluate(right, in: scope)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test, in: scope).isTruthy { return try evaluate(then, in: scope) }
            if let otherwise { return try evaluate(otherwise, in: scope) }
            return .undefined("the inline if-expression on line \(expression.location.line) evaluated to false "
                                  + "and no else section was defined.")
        }
    }
}
