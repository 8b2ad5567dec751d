/// Builds the syntax tree from tokens: statements here, expressions in `Parser+Expressions.swift`.
/// Follows jinja2's grammar, including its precedence and its quirks.
struct Parser {
    /// Deepest allowed nesting of blocks and sub-expressions, so hostile templates cannot exhaust the stack.
    static let maxNesting = 100

    private var tokens: [Token]
    private var index = 0
    private var nesting = 0
    private var loopDepth = 0

    static func parse(_ tokens: [Token]) throws -> [Node] {
        var parser = Parser(tokens: tokens)
        let (body, _) = try parser.parseBody(until: [], opener: nil)
        return body
    }

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    // MARK: Token stream

    var current: Token { tokens[index] }

    func peek(_ offset: Int = 1) -> Token {
        tokens[min(index + offset, tokens.count - 1)]
    }

    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }

    func isName(_ name: String) -> Bool { current.kind == .name(name) }

    mutating func skip(symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        _ = advance()
        return true
    }

    mutating func skip(name: String) -> Bool {
        guard isName(name) else { return false }
        _ = advance()
        return true
    }

    mutating func expect(symbol: String) throws {
        guard skip(symbol: symbol) else { throw unexpected(expecting: "'\(symbol)'") }
    }

    mutating func expect(_ kind: TokenKind) throws {
        guard current.kind == kind else { throw unexpected(expecting: kind.display) }
        _ = advance()
    }

    mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw unexpected(expecting: "a name") }
        _ = advance()
        return name
    }

    func unexpected(expecting expected: String) -> TemplateError {
        .syntax("expected \(expected), got \(current.kind.display)", at: current.location)
    }

    mutating func enterNesting() throws {
        nesting += 1
        if nesting > Self.maxNesting {
            throw TemplateError.syntax("template is nested too deeply", at: current.location)
        }
    }

    mutating func leaveNesting(_ levels: Int = 1) { nesting -= levels }

    /// One more link of a left-nested chain (`a + b + c`, `x.y[0]()`, `v | f | g`): each link wraps
    /// the tree built so far, so evaluating (and freeing) the tree recurses once per link. Counted
    /// in `links`, to be released with `leaveNesting(links)` when the chain ends.
    mutating func extendChain(_ links: inout Int) throws {
        links += 1
        try enterNesting()
    }

    // MARK: Statements

    /// Parses until a block tag named in `endTags`; returns the body and that tag's name, leaving the
    /// stream on the name. `opener` names the enclosing block for the error when the template ends early.
    private mutating func parseBody(
        until endTags: Set<String>, opener: (name: String, location: SourceLocation)?
    ) throws -> ([Node], String) {
        var body: [Node] = []
        while true {
            let token = current
            switch token.kind {
            case .text(let text):
                _ = advance()
                body.append(.text(text))
            case .variableBegin:
                _ = advance()
                body.append(.output(try parseTuple()))
                try expect(.variableEnd)
            case .blockBegin:
                _ = advance()
                if case .name(let name) = current.kind, endTags.contains(name) { return (body, name) }
                body.append(try parseStatement())
            case .end:
                if let opener {
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw TemplateError.syntax(
                        "unexpected end of template: the '\(opener.name)' block needs \(expected)", at: opener.location)
                }
                return (body, "")
            default:
                throw unexpected(expecting: "template text or a tag")
            }
        }
    }

    private mutating func parseStatement() throws -> Node {
        let token = current
        guard case .name(let name) = token.kind else { throw unexpected(expecting: "a statement name") }
        try enterNesting()
        defer { leaveNesting() }
        switch name {
        case "for": return try parseFor()
        case "if": return try parseIf()
        case "set": return try parseSet()
        case "macro": return try parseMacro()
        case "filter": return try parseFilterBlock()
        case "break", "continue":
            _ = advance()
            guard loopDepth > 0 else {
                throw TemplateError.syntax("'\(name)' outside of a loop", at: token.location)
            }
            try expect(.blockEnd)
            return .loopControl(name == "break" ? .breakLoop : .continueLoop, token.location)
        default:
            throw TemplateError.syntax("unknown tag '\(name)'", at: token.location)
        }
    }

    /// Parses a body up to one of `endTags`, consuming that tag's name; returns the body and the name.
    private mutating func parseBlockBody(
        until endTags: Set<String>, opener: String, at location: SourceLocation
    ) throws -> ([Node], String) {
        let (body, tag) = try parseBody(until: endTags, opener: (opener, location))
        _ = advance()
        return (body, tag)
    }

    private mutating func parseFor() throws -> Node {
        let location = advance().location
        let target = try parseAssignTarget(allowNamespace: false)
        guard skip(name: "in") else { throw unexpected(expecting: "'in'") }
        let iterable = try parseTuple(withConditional: false)
        var condition: Expression?
        if skip(name: "if") { condition = try parseExpression() }
        if isName("recursive") {
            throw TemplateError.syntax("recursive loops are not supported", at: current.location)
        }
        try expect(.blockEnd)
        loopDepth += 1
        let (body, tag) = try parseBlockBody(until: ["endfor", "else"], opener: "for", at: location)
        loopDepth -= 1
        var otherwise: [Node] = []
        if tag == "else" {
            try expect(.blockEnd)
            (otherwise, _) = try parseBlockBody(until: ["endfor"], opener: "for", at: location)
        }
        try expect(.blockEnd)
        return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body,
                                otherwise: otherwise, location: location))
    }

    private mutating func parseIf() throws -> Node {
        let location = advance().location
        var branches: [(test: Expression, body: [Node])] = []
        var otherwise: [Node] = []
        while true {
            let test = try parseTuple(withConditional: false)
            try expect(.blockEnd)
            let (body, tag) = try parseBlockBody(until: ["elif", "else", "endif"], opener: "if", at: location)
            branches.append((test, body))
            if tag == "elif" { continue }
            if tag == "else" {
                try expect(.blockEnd)
                (otherwise, _) = try parseBlockBody(until: ["endif"], opener: "if", at: location)
            }
            break
        }
        try expect(.blockEnd)
        return .conditional(branches, otherwise: otherwise)
    }

    private mutating func parseSet() throws -> Node {
        let location = advance().location
        let target = try parseAssignTarget(allowNamespace: true)
        if skip(symbol: "=") {
            let value = try parseTuple()
            try expect(.blockEnd)
            return .assign(target, value, location)
        }
        let filters = try parseFilterChain(startInline: false)
        try expect(.blockEnd)
        let (body, _) = try parseBlockBody(until: ["endset"], opener: "set", at: location)
        try expect(.blockEnd)
        return .assignBlock(target, filters, body, location)
    }

    private mutating func parseMacro() throws -> Node {
        let location = advance().location
        let name = try expectName()
        try expect(symbol: "(")
        var parameters: [(name: String, defaultValue: Expression?)] = []
        while !isSymbol(")") {
            if !parameters.isEmpty { try expect(symbol: ",") }
            if isSymbol(")") { break }
            let parameterLocation = current.location
            let parameter = try expectName()
            var defaultValue: Expression?
            if skip(symbol: "=") {
                defaultValue = try parseExpression()
            } else if parameters.last?.defaultValue != nil {
                throw TemplateError.syntax("non-default argument follows default argument", at: parameterLocation)
            }
            parameters.append((parameter, defaultValue))
        }
        try expect(symbol: ")")
        try expect(.blockEnd)
        // `break` cannot cross a macro boundary.
        let outerLoops = loopDepth
        loopDepth = 0
        let (body, _) = try parseBlockBody(until: ["endmacro"], opener: "macro", at: location)
        loopDepth = outerLoops
        try expect(.blockEnd)
        return .macro(MacroDefinition(name: name, parameters: parameters, body: body, location: location))
    }

    private mutating func parseFilterBlock() throws -> Node {
        let location = advance().location
        let filters = try parseFilterChain(startInline: true)
        try expect(.blockEnd)
        let (body, _) = try parseBlockBody(until: ["endfilter"], opener: "filter", at: location)
        try expect(.blockEnd)
        return .filterBlock(filters, body, location)
    }

    /// `| name(args) | name ...`; with `startInline` the first filter has no leading `|`.
    private mutating func parseFilterChain(startInline: Bool) throws -> [FilterCall] {
        var filters: [FilterCall] = []
        var inline = startInline
        while inline || skip(symbol: "|") {
            inline = false
            let location = current.location
            let name = try parseDottedName()
            try checkFilter(name, at: location)
            let arguments = isSymbol("(") ? try parseCallArguments() : CallArguments()
            filters.append(FilterCall(name: name, arguments: arguments, location: location))
        }
        return filters
    }

    private mutating func parseAssignTarget(allowNamespace: Bool) throws -> AssignTarget {
        if allowNamespace, case .name(let name) = current.kind, peek().kind == .symbol(".") {
            _ = advance()
            _ = advance()
            return .namespaceAttribute(name, try expectName())
        }
        var targets: [AssignTarget] = []
        var isTuple = false
        while true {
            if !targets.isEmpty { try expect(symbol: ",") }
            if current.kind == .blockEnd || isName("in") || isSymbol("=") || isSymbol("|") { break }
            targets.append(try parseSingleTarget())
            guard isSymbol(",") else { break }
            isTuple = true
        }
        guard let first = targets.first else { throw unexpected(expecting: "an assignment target") }
        return isTuple ? .tuple(targets) : first
    }

    private mutating func parseSingleTarget() throws -> AssignTarget {
        if skip(symbol: "(") {
            let inner = try parseAssignTarget(allowNamespace: false)
            try expect(symbol: ")")
            return inner
        }
        let location = current.location
        let name = try expectName()
        if ["true", "false", "none", "True", "False", "None"].contains(name) {
            throw TemplateError.syntax("cannot assign to '\(name)'", at: location)
        }
        return .name(name)
    }
}
