/// One lexical unit of a template: literal text between tags, tag delimiters, or a piece of an
/// expression inside a tag.
enum TokenKind: Equatable, Sendable {
    case text(String)
    case variableBegin
    case variableEnd
    case blockBegin
    case blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case symbol(String)
    case end

    /// How the token reads in an error message.
    var display: String {
        switch self {
        case .text: "template text"
        case .variableBegin: "'{{'"
        case .variableEnd: "'}}'"
        case .blockBegin: "'{%'"
        case .blockEnd: "'%}'"
        case .name(let name): "'\(name)'"
        case .string: "string literal"
        case .integer(let value): "'\(value)'"
        case .float(let value): "'\(value)'"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "end of template"
        }
    }
}

struct Token: Sendable {
    let kind: TokenKind
    let location: SourceLocation
}
