import ShiftAddScheduler

/// Free text, or a document of a grammar, chosen by the first token: one that starts with `{` and
/// continues the grammar commits to the document (which is then enforced to the end); any token
/// not starting with `{` commits to unconstrained text. Used for `tool_choice: "auto"`, where the
/// document is a tool call.
public final class TextOrGrammarConstraint: TokenConstraint {
    let grammar: GrammarConstraint
    /// Tokens allowed first: the grammar's, and every token not starting with `{` (special tokens
    /// such as the end of turn included: an empty answer is text).
    private let firstMask: [UInt64]

    public init(_ grammar: GrammarConstraint) {
        self.grammar = grammar
        var bits = grammar.mask(for: grammar.grammar.start).bits
        for (id, bytes) in grammar.index.spelling.enumerated() where bytes.first != UInt8(ascii: "{") {
            bits[id >> 6] |= 1 << UInt64(id & 63)
        }
        firstMask = bits
    }

    public func start() -> any TokenConstraintState { Cursor(self) }

    private final class Cursor: TokenConstraintState {
        let owner: TextOrGrammarConstraint
        enum Mode { case undecided, text, document(GrammarCursor) }
        var mode = Mode.undecided

        init(_ owner: TextOrGrammarConstraint) { self.owner = owner }

        func mask(_ logits: UnsafeMutableBufferPointer<Float>, remaining: Int) {
            switch mode {
            case .undecided:
                GrammarConstraint.apply(owner.firstMask, to: logits, vocabularySize: owner.grammar.index.vocabularySize)
            case .text: return
            case .document(let cursor): cursor.mask(logits, remaining: remaining)
            }
        }

        func advance(_ token: Int) {
            switch mode {
            case .undecided:
                let spelling = owner.grammar.index.spelling
                if token < spelling.count, spelling[token].first == UInt8(ascii: "{") {
                    let cursor = GrammarCursor(owner.grammar)
                    cursor.advance(token)
                    mode = .document(cursor)
                } else {
                    mode = .text
                }
            case .text: return
            case .document(let cursor): cursor.advance(token)
            }
        }

        var isComplete: Bool {
            if case .document(let cursor) = mode { return cursor.isComplete }
            return false
        }
    }
}
