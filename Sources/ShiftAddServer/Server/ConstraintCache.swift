import ShiftAddGrammar
import ShiftAddScheduler
import ShiftAddTokenizer
import Synchronization

/// The constraints of recent schemas and tool sets, by the canonical text of what they enforce:
/// requests repeating a schema share its compiled grammar and its cache of per-state masks. The
/// vocabulary index they walk is built on first use, once.
final class ConstraintCache: Sendable {
    static let capacity = 64

    private let tokenizer: Tokenizer
    private struct State {
        var index: TokenIndex?
        var constraints: [String: any TokenConstraint] = [:]
        /// Keys, least recently used first.
        var order: [String] = []
    }
    private let state = Mutex(State())

    init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// `grammar` enforced to the end; `orText`: or free text, chosen by the first token.
    func constraint(key: String, grammar: Grammar, orText: Bool = false) -> any TokenConstraint {
        let key = (orText ? "text|" : "") + key
        return state.withLock { s in
            if let hit = s.constraints[key] {
                s.order.removeAll { $0 == key }
                s.order.append(key)
                return hit
            }
            let index = s.index ?? TokenIndex(tokenizer: tokenizer)
            s.index = index
            let document = GrammarConstraint(grammar: grammar, index: index)
            let made: any TokenConstraint = orText ? TextOrGrammarConstraint(document) : document
            if s.order.count >= Self.capacity { s.constraints[s.order.removeFirst()] = nil }
            s.constraints[key] = made
            s.order.append(key)
            return made
        }
    }
}
