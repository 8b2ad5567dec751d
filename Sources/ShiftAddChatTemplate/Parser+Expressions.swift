/// Expression grammar, lowest precedence first: conditional, `or`, `and`, `not`, comparisons, `+ -`,
/// `~`, `* / // %`, `**`, unary `- +`, then primaries with attribute/item/call postfixes and
/// `| filter` / `is test` suffixes. As in jinja2, filters bind tighter than every binary operator and
/// `**` is left-associative.
extension Parser {
    /// A single expression or, with commas, a tuple (`a, b`); stops before `}}`, `%}` and `)`.
    mutating func parseTuple(withConditional: Bool = true, explicitParentheses: Bool = false) throws -> Expression {
        let location = current.location
        var items: [Expression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(symbol: ",") }
            if current.kind == .variableEnd || current.kind == .blockEnd || isSymbol(")") { break }
            items.append(try parseExpression(withConditional: withConditional))
            guard isSymbol(",") else { break }
            isTuple = true
        }
        if !isTuple {
            if let single = items.first { return single }
            if !explicitParentheses { throw unexpected(expecting: "an expression") }
        }
        return Expression(kind: .tuple(items), location: location)
    }

    mutating func parseExpression(withConditional: Bool = true) throws -> Expression {
        withConditional ? try parseConditional() : try parseOr()
    }

    private mutating func parseConditional() throws -> Expression {
        try enterNesting()
        defer { leaveNesting() }
        var expression = try parseOr()
        var links = 0
        defer { leaveNesting(links) }
        while isName("if") {
            try extendChain(&links)
            let location = advance().location
            let test = try parseOr()
            let otherwise = skip(name: "else") ? try parseConditional() : nil
            expression = Expression(kind: .conditional(test: test, then: expression, otherwise: otherwise),
                                    location: location)
        }
        return expression
    }

    private mutating func parseOr() throws -> Expression {
        var left = try parseAnd()
        var links = 0
        defer { leaveNesting(links) }
        while isName("or") {
            try extendChain(&links)
            let location = advance().location
            left = Expression(kind: .or(left, try parseAnd()), location: location)
        }
        return left
    }

    private mutating func parseAnd() throws -> Expression {
        var left = try parseNot()
        var links = 0
        defer { leaveNesting(links) }
        while isName("and") {
            try extendChain(&links)
            let location = advance().location
            left = Expression(kind: .and(left, try parseNot()), location: location)
        }
        return left
    }

    private mutating func parseNot() throws -> Expression {
        guard isName("not") else { return try parseCompare() }
        let location = advance().location
        try enterNesting()
        defer { leaveNesting() }
        return Expression(kind: .not(try parseNot()), location: location)
    }

    private mutating func parseCompare() throws -> Expression {
        let location = current.location
        let first = try parseMath1()
        var operations: [(ComparisonOperator, Expression)] = []
        while true {
            if case .symbol(let symbol) = current.kind, let operation = ComparisonOperator(rawValue: symbol) {
                _ = advance()
                operations.append((operation, try parseMath1()))
            } else if skip(name: "in") {
                operations.append((.isIn, try parseMath1()))
            } else if isName("not") && peek().kind == .name("in") {
                _ = advance()
                _ = advance()
                operations.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : Expression(kind: .compare(first, operations), location: location)
    }

    private mutating func parseBinary(
        _ operators: [BinaryOperator], operand: (inout Parser) throws -> Expression
    ) throws -> Expression {
        var left = try operand(&self)
        var links = 0
        defer { leaveNesting(links) }
        while case .symbol(let symbol) = current.kind, let operation = BinaryOperator(rawValue: symbol),
              operators.contains(operation) {
            try extendChain(&links)
            let location = advance().location
            left = Expression(kind: .binary(operation, left, try operand(&self)), location: location)
        }
        return left
    }

    private mutating func parseMath1() throws -> Expression {
        try parseBinary([.add, .subtract]) { try $0.parseConcat() }
    }

    private mutating func parseConcat() throws -> Expression {
        let location = current.location
        var parts = [try parseMath2()]
        while skip(symbol: "~") { parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : Expression(kind: .concat(parts), location: location)
    }

    private mutating func parseMath2() throws -> Expression {
        try parseBinary([.multiply, .divide, .floorDivide, .modulo]) { try $0.parsePower() }
    }

    private mutating func parsePower() throws -> Expression {
        try parseBinary([.power]) { try $0.parseUnary() }
    }

    private mutating func parseUnary(withFilters: Bool = true) throws -> Expression {
        try enterNesting()
        defer { leaveNesting() }
        let location = current.location
        var node: Expression
        if skip(symbol: "-") {
            node = Expression(kind: .unary(.negate, try parseUnary(withFilters: false)), location: location)
        } else if skip(symbol: "+") {
            node = Expression(kind: .unary(.plus, try parseUnary(withFilters: false)), location: location)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilters ? try parseFilterSuffixes(node) : node
    }

    private mutating func parsePrimary() throws -> Expression {
        let token = current
        let location = token.location
        switch token.kind {
        case .name(let name):
            _ = advance()
            switch name {
            case "true", "True": return Expression(kind: .constant(.bool(true)), location: location)
            case "false", "False": return Expression(kind: .constant(.bool(false)), location: location)
            case "none", "None": return Expression(kind: .constant(.none), location: location)
            default: return Expression(kind: .name(name), location: location)
            }
        case .string(let first):
            _ = advance()
            var text = first
            // Adjacent literals concatenate, as in Python.
            while case .string(let next) = current.kind {
                text += next
                _ = advance()
            }
            return Expression(kind: .constant(.string(text)), location: location)
        case .integer(let value):
            _ = advance()
            return Expression(kind: .constant(.int(value)), location: location)
        case .float(let value):
            _ = advance()
            return Expression(kind: .constant(.double(value)), location: location)
        case .symbol("("):
            _ = advance()
            let inner = try parseTuple(explicitParentheses: true)
            try expect(symbol: ")")
            return inner
        case .symbol("["):
            return try parseList()
        case .symbol("{"):
            return try parseDict()
        default:
            throw TemplateError.syntax("unexpected \(token.kind.display)", at: location)
        }
    }

    private mutating func parseList() throws -> Expression {
        let location = advance().location
        var items: [Expression] = []
        while !isSymbol("]") {
            if !items.isEmpty { try expect(symbol: ",") }
            if isSymbol("]") { break }
            items.append(try parseExpression())
        }
        try expect(symbol: "]")
        return Expression(kind: .list(items), location: location)
    }

    private mutating func parseDict() throws -> Expression {
        let location = advance().location
        var items: [(key: Expression, value: Expression)] = []
        while !isSymbol("}") {
            if !items.isEmpty { try expect(symbol: ",") }
            if isSymbol("}") { break }
            let key = try parseExpression()
            try expect(symbol: ":")
            items.append((key, try parseExpression()))
        }
        try expect(symbol: "}")
        return Expression(kind: .dict(items), location: location)
    }

    private mutating func parsePostfix(_ start: Expression) throws -> Expression {
        var node = start
        var links = 0
        defer { leaveNesting(links) }
        while true {
            if isSymbol(".") || isSymbol("[") || isSymbol("(") { try extendChain(&links) }
            if isSymbol(".") || isSymbol("[") {
                node = try parseSubscript(node)
            } else if isSymbol("(") {
                let location = current.location
                node = Expression(kind: .call(node, try parseCallArguments()), location: location)
            } else {
                return node
            }
        }
    }

    private mutating func parseFilterSuffixes(_ start: Expression) throws -> Expression {
        var node = start
        var links = 0
        defer { leaveNesting(links) }
        while true {
            if isSymbol("|") || isName("is") || isSymbol("(") { try extendChain(&links) }
            if skip(symbol: "|") {
                let location = current.location
                let name = try parseDottedName()
                try checkFilter(name, at: location)
                let arguments = isSymbol("(") ? try parseCallArguments() : CallArguments()
                node = Expression(kind: .filter(node, name: name, arguments), location: location)
            } else if isName("is") {
                node = try parseTest(node)
            } else if isSymbol("(") {
                let location = current.location
                node = Expression(kind: .call(node, try parseCallArguments()), location: location)
            } else {
                return node
            }
        }
    }

    private mutating func parseTest(_ subject: Expression) throws -> Expression {
        let location = advance().location
        let negated = skip(name: "not")
        let nameLocation = current.location
        let name = try parseDottedName()
        try checkTest(name, at: nameLocation)
        var arguments = CallArguments()
        if isSymbol("(") {
            arguments = try parseCallArguments()
        } else if startsTestArgument {
            if isName("is") {
                throw TemplateError.syntax("tests cannot be chained with 'is'", at: current.location)
            }
            arguments.positional = [try parsePostfix(try parsePrimary())]
        }
        let test = Expression(kind: .test(subject, name: name, arguments), location: location)
        return negated ? Expression(kind: .not(test), location: location) : test
    }

    /// Whether the token after a test name is its single bare argument, as in `x is divisibleby 3`.
    private var startsTestArgument: Bool {
        switch current.kind {
        case .name(let name): !["else", "or", "and"].contains(name)
        case .string, .integer, .float, .symbol("["), .symbol("{"): true
        default: false
        }
    }

    private mutating func parseSubscript(_ subject: Expression) throws -> Expression {
        let token = advance()
        if token.kind == .symbol(".") {
            let attribute = current
            switch attribute.kind {
            case .name(let name):
                _ = advance()
                return Expression(kind: .attribute(subject, name), location: token.location)
            case .integer(let value):
                _ = advance()
                let key = Expression(kind: .constant(.int(value)), location: attribute.location)
                return Expression(kind: .item(subject, key), location: token.location)
            default:
                throw unexpected(expecting: "a name or number after '.'")
            }
        }
        var keys: [Expression] = []
        while !isSymbol("]") {
            if !keys.isEmpty { try expect(symbol: ",") }
            keys.append(try parseSubscribed())
        }
        try expect(symbol: "]")
        guard let first = keys.first else { throw unexpected(expecting: "a subscript") }
        let key = keys.count == 1 ? first : Expression(kind: .tuple(keys), location: first.location)
        return Expression(kind: .item(subject, key), location: token.location)
    }

    /// An index or a `start:stop:step` slice with any part omitted.
    private mutating func parseSubscribed() throws -> Expression {
        let location = current.location
        var start: Expression?
        if !isSymbol(":") {
            let expression = try parseExpression()
            if !isSymbol(":") { return expression }
            start = expression
        }
        _ = advance()
        var stop: Expression?
        if !isSymbol(":") && !isSymbol("]") && !isSymbol(",") { stop = try parseExpression() }
        var step: Expression?
        if skip(symbol: ":"), !isSymbol("]") && !isSymbol(",") { step = try parseExpression() }
        return Expression(kind: .slice(start, stop, step), location: location)
    }

    mutating func parseCallArguments() throws -> CallArguments {
        try expect(symbol: "(")
        var arguments = CallArguments()
        var first = true
        while !isSymbol(")") {
            if !first {
                try expect(symbol: ",")
                if isSymbol(")") { break }
            }
            first = false
            if isSymbol("*") || isSymbol("**") {
                throw TemplateError.syntax("'*' and '**' arguments are not supported", at: current.location)
            }
            if case .name(let name) = current.kind, peek().kind == .symbol("=") {
                _ = advance()
                _ = advance()
                arguments.keywords.append((name, try parseExpression()))
            } else {
                if !arguments.keywords.isEmpty {
                    throw TemplateError.syntax("positional argument follows keyword argument", at: current.location)
                }
                arguments.positional.append(try parseExpression())
            }
        }
        try expect(symbol: ")")
        return arguments
    }

    mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while skip(symbol: ".") { name += "." + (try expectName()) }
        return name
    }

    func checkFilter(_ name: String, at location: SourceLocation) throws {
        guard Filters.table[name] != nil else { throw TemplateError.syntax("no filter named '\(name)'", at: location) }
    }

    func checkTest(_ name: String, at location: SourceLocation) throws {
        guard TestPredicates.table[name] != nil else { throw TemplateError.syntax("no test named '\(name)'", at: location) }
    }
}
