/// Splits a template into tokens, applying whitespace control the way jinja2 does with Hugging Face's
/// settings (`trim_blocks=True`, `lstrip_blocks=True`):
/// - the source's newlines are normalised to `\n` and one trailing newline is dropped;
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` strip all after it;
/// - trim_blocks drops the single newline right after `%}` or `#}`; `+%}` keeps it;
/// - lstrip_blocks drops whitespace between a line start and `{%`/`{#`; `{%+` keeps it.
struct Lexer {
    private enum Tag { case variable, block, comment }

    private let source: [Unicode.Scalar]
    private let lineStarts: [Int]
    private var position = 0
    /// Whether the previous match ended with a newline (jinja2's `line_starting`), which lets
    /// lstrip_blocks apply to a tag that has no newline in the text before it.
    private var lineStarting = true
    private var tokens: [Token] = []

    static func tokenize(_ text: String) throws -> [Token] {
        var lexer = Lexer(source: normalizeNewlines(text))
        try lexer.run()
        return lexer.tokens
    }

    private init(source: [Unicode.Scalar]) {
        self.source = source
        var starts = [0]
        for (index, scalar) in source.enumerated() where scalar == "\n" { starts.append(index + 1) }
        lineStarts = starts
    }

    /// `\r\n` and `\r` become `\n`; one trailing newline is removed (jinja2's keep_trailing_newline=False).
    private static func normalizeNewlines(_ text: String) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            result.append(scalar == "\r" ? "\n" : scalar)
        }
        if result.last == "\n" { result.removeLast() }
        return result
    }

    private func location(_ offset: Int) -> SourceLocation {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return SourceLocation(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    private func matches(_ literal: String, at offset: Int) -> Bool {
        var index = offset
        for scalar in literal.unicodeScalars {
            guard index < source.count, source[index] == scalar else { return false }
            index += 1
        }
        return true
    }

    private mutating func emit(_ kind: TokenKind, at offset: Int) {
        tokens.append(Token(kind: kind, location: location(offset)))
    }

    private mutating func run() throws {
        while position < source.count {
            guard let (start, tag) = nextTagStart() else {
                emit(.text(PythonText.string(source[position...])), at: position)
                position = source.count
                break
            }
            var afterOpen = start + 2
            var sign: Unicode.Scalar?
            if afterOpen < source.count, source[afterOpen] == "-" || source[afterOpen] == "+" {
                sign = source[afterOpen]
                afterOpen += 1
            }
            emitText(from: position, to: start, sign: sign, tag: tag)
            position = afterOpen
            switch tag {
            case .comment: try skipComment(openedAt: start)
            case .block, .variable: try lexTag(tag, openedAt: start)
            }
        }
        emit(.end, at: source.count)
    }

    /// The earliest `{{`, `{%` or `{#` at or after the current position.
    private func nextTagStart() -> (Int, Tag)? {
        var index = position
        while index + 1 < source.count {
            if source[index] == "{" {
                switch source[index + 1] {
                case "{": return (index, .variable)
                case "%": return (index, .block)
                case "#": return (index, .comment)
                default: break
                }
            }
            index += 1
        }
        return nil
    }

    private mutating func emitText(from start: Int, to end: Int, sign: Unicode.Scalar?, tag: Tag) {
        var textEnd = end
        if sign == "-" {
            while textEnd > start && PythonText.isSpace(source[textEnd - 1]) { textEnd -= 1 }
        } else if sign != "+" && tag != .variable {
            var lineStart = end
            while lineStart > start && source[lineStart - 1] != "\n" { lineStart -= 1 }
            let afterNewline = lineStart > start
            if (afterNewline || lineStarting) && lineStart < end
                && source[lineStart..<end].allSatisfy(PythonText.isSpace) {
                textEnd = lineStart
            }
        }
        if textEnd > start { emit(.text(PythonText.string(source[start..<textEnd])), at: start) }
    }

    private mutating func skipComment(openedAt start: Int) throws {
        // jinja2 silently accepts a comment opener as the very last thing in the template.
        if position == source.count { return }
        var index = position
        while index < source.count {
            if (source[index] == "+" || source[index] == "-") && matches("#}", at: index + 1) {
                position = index + 3
                if source[index] == "-" { skipWhitespace() }
                lineStarting = source[position - 1] == "\n"
                return
            }
            if matches("#}", at: index) {
                position = index + 2
                if position < source.count && source[position] == "\n" { position += 1 }
                lineStarting = source[position - 1] == "\n"
                return
            }
            index += 1
        }
        throw TemplateError.syntax("missing end of comment tag '#}'", at: location(start))
    }

    private mutating func skipWhitespace() {
        while position < source.count && PythonText.isSpace(source[position]) { position += 1 }
    }

    /// Consumes a closing delimiter at the current position, returning whether there was one.
    private mutating func closeTag(_ tag: Tag) -> Bool {
        let start = position
        if tag == .block {
            if matches("+%}", at: position) {
                position += 3
            } else if matches("-%}", at: position) {
                position += 3
                skipWhitespace()
            } else if matches("%}", at: position) {
                position += 2
                if position < source.count && source[position] == "\n" { position += 1 }
            } else {
                return false
            }
        } else {
            if matches("-}}", at: position) {
                position += 3
                skipWhitespace()
            } else if matches("}}", at: position) {
                position += 2
            } else {
                return false
            }
        }
        emit(tag == .block ? .blockEnd : .variableEnd, at: start)
        lineStarting = source[position - 1] == "\n"
        return true
    }

    private static let symbols = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(",
                                  ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"]

    private mutating func lexTag(_ tag: Tag, openedAt start: Int) throws {
        emit(tag == .block ? .blockBegin : .variableBegin, at: start)
        var brackets: [(Unicode.Scalar, Int)] = []
        while true {
            guard position < source.count else {
                let closer = tag == .block ? "%}" : "}}"
                if let (open, offset) = brackets.last {
                    throw TemplateError.syntax("unclosed '\(open)'", at: location(offset))
                }
                throw TemplateError.syntax("missing end of tag '\(closer)'", at: location(start))
            }
            if brackets.isEmpty && closeTag(tag) { return }
            let scalar = source[position]
            if PythonText.isSpace(scalar) {
                position += 1
            } else if PythonText.isDigit(scalar) {
                try lexNumber()
            } else if PythonText.isIdentifierStart(scalar) {
                let begin = position
                while position < source.count && PythonText.isIdentifierContinue(source[position]) { position += 1 }
                emit(.name(PythonText.string(source[begin..<position])), at: begin)
            } else if scalar == "'" || scalar == "\"" {
                try lexString()
            } else if let symbol = Self.symbols.first(where: { matches($0, at: position) }) {
                try balance(symbol, &brackets)
                emit(.symbol(symbol), at: position)
                position += symbol.unicodeScalars.count
            } else {
                throw TemplateError.syntax("unexpected character '\(scalar)'", at: location(position))
            }
        }
    }

    private func balance(_ symbol: String, _ brackets: inout [(Unicode.Scalar, Int)]) throws {
        let pairs: [String: Unicode.Scalar] = [")": "(", "]": "[", "}": "{"]
        if symbol == "(" || symbol == "[" || symbol == "{" {
            brackets.append((symbol.unicodeScalars.first!, position))
        } else if let opener = pairs[symbol] {
            guard let (open, _) = brackets.popLast() else {
                throw TemplateError.syntax("unexpected '\(symbol)'", at: location(position))
            }
            if open != opener {
                let expected = pairs.first { $0.value == open }!.key
                throw TemplateError.syntax("unexpected '\(symbol)', expected '\(expected)'", at: location(position))
            }
        }
    }

    /// Digits in groups separated by single underscores, like `1_000`.
    private func digitRun(from start: Int, where isDigit: (Unicode.Scalar) -> Bool) -> Int? {
        var index = start
        guard index < source.count, isDigit(source[index]) else { return nil }
        while index < source.count {
            if isDigit(source[index]) {
                index += 1
            } else if source[index] == "_" && index + 1 < source.count && isDigit(source[index + 1]) {
                index += 2
            } else {
                break
            }
        }
        return index
    }

    private mutating func lexNumber() throws {
        let start = position
        if let double = floatLiteral() {
            emit(.float(double.value), at: start)
            position = double.end
            return
        }
        var radix = 10
        var digitsStart = start
        var end: Int
        if source[start] == "0", start + 1 < source.count,
           let prefixRadix = ["b": 2, "B": 2, "o": 8, "O": 8, "x": 16, "X": 16][Character(source[start + 1])] {
            radix = prefixRadix
            digitsStart = start + 2
            var index = digitsStart
            while index < source.count {
                if source[index] == "_" { index += 1 }
                guard index < source.count, Int(String(source[index]), radix: radix) != nil else { break }
                index += 1
            }
            end = index
            if end == digitsStart { throw TemplateError.syntax("invalid number literal", at: location(start)) }
        } else if source[start] == "0" {
            end = start + 1
            while end < source.count {
                if source[end] == "0" {
                    end += 1
                } else if source[end] == "_" && end + 1 < source.count && source[end + 1] == "0" {
                    end += 2
                } else {
                    break
                }
            }
        } else {
            end = digitRun(from: start, where: PythonText.isDigit) ?? start + 1
        }
        let digits = PythonText.string(source[digitsStart..<end].filter { $0 != "_" })
        guard let value = Int(digits, radix: radix) else {
            throw TemplateError.syntax("integer literal too large", at: location(start))
        }
        emit(.integer(value), at: start)
        position = end
    }

    /// jinja2's float syntax: digits, then a fraction, an exponent, or both; never right after a dot.
    private func floatLiteral() -> (value: Double, end: Int)? {
        if position > 0 && source[position - 1] == "." { return nil }
        guard let integerEnd = digitRun(from: position, where: PythonText.isDigit) else { return nil }
        var end = integerEnd
        var hasFraction = false
        if end < source.count && source[end] == ".", let fractionEnd = digitRun(from: end + 1, where: PythonText.isDigit) {
            end = fractionEnd
            hasFraction = true
        }
        if end < source.count && (source[end] == "e" || source[end] == "E") {
            var exponentStart = end + 1
            if exponentStart < source.count && (source[exponentStart] == "+" || source[exponentStart] == "-") {
                exponentStart += 1
            }
            if let exponentEnd = digitRun(from: exponentStart, where: PythonText.isDigit) {
                end = exponentEnd
            } else if !hasFraction {
                return nil
            }
        } else if !hasFraction {
            return nil
        }
        let text = PythonText.string(source[position..<end].filter { $0 != "_" })
        guard let value = Double(text) else { return nil }
        return (value, end)
    }

    private mutating func lexString() throws {
        let start = position
        let quote = source[position]
        var index = position + 1
        while index < source.count && source[index] != quote {
            index += source[index] == "\\" ? 2 : 1
        }
        guard index < source.count else {
            throw TemplateError.syntax("unterminated string literal", at: location(start))
        }
        let value = try StringEscapes.decode(source[(start + 1)..<index]) { message, offset in
            TemplateError.syntax(message, at: location(start + 1 + offset))
        }
        emit(.string(value), at: start)
        position = index + 1
    }
}
