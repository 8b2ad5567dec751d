import ShiftAddScheduler
import Synchronization

/// A `Grammar` enforced over a tokenizer's vocabulary: the scheduler masks each step's logits to
/// the tokens whose bytes continue a valid document, and ends the generation when it is complete.
///
/// A step's mask walks the `TokenIndex` trie with the grammar state, pruning at the first byte no
/// document allows. Masks are cached per state: inside a string every position has the same state,
/// so after the first few tokens of a document most steps are a lookup. The cache lives as long as
/// the constraint, which the server keeps per schema, so requests with one schema share it.
///
/// Closing in time: `minClose` is the fewest bytes that complete the document and every byte is a
/// token, so allowing only tokens after which `minClose` stays below the remaining token budget
/// always leaves a way to finish. A mask records the largest `minClose` a token leads to; only
/// when that exceeds the budget does the step need a stricter mask, cached by state and budget
/// too (the budget is then small: the last tokens of a document).
public final class GrammarConstraint: TokenConstraint {
    let grammar: Grammar
    let index: TokenIndex
    private let cache = Mutex<[MaskKey: StateMask]>([:])
    /// At most this many masks (of 6 KB for a 49k vocabulary) are kept; the cache starts over when full.
    static let maxCachedStates = 8192

    public init(grammar: Grammar, index: TokenIndex) {
        self.grammar = grammar
        self.index = index
    }

    public func start() -> any TokenConstraintState { GrammarCursor(self) }

    /// The tokens allowed after `state` within `budget` bytes of closing (nil: any), and the largest
    /// `minClose` among the states they lead to.
    struct StateMask {
        var bits: [UInt64]
        var allowed: Int
        var maxClose: Int
        /// The allowed tokens when they are few (structure, keys, enums), else nil: masking then
        /// fills the row and puts these back instead of testing every bit.
        var list: [Int32]?
    }

    private struct MaskKey: Hashable {
        var state: GrammarState
        /// nil: no budget.
        var budget: Int?
    }

    func mask(for state: GrammarState, budget: Int? = nil) -> StateMask {
        let key = MaskKey(state: state, budget: budget)
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let mask = walk(state, budget: budget)
        cache.withLock {
            if $0.count >= Self.maxCachedStates { $0.removeAll(keepingCapacity: true) }
            $0[key] = mask
        }
        return mask
    }

    /// Depth-first over the trie, stepping the grammar one byte per edge.
    func walk(_ state: GrammarState, budget: Int?) -> StateMask {
        var mask = StateMask(bits: [UInt64](repeating: 0, count: (index.vocabularySize + 63) / 64), allowed: 0, maxClose: 0)
        // Each pending node carries its state and that state's `minClose`, which plain string text
        // leaves as it is.
        var pending: [(node: Int32, state: GrammarState, close: Int)] = [(0, state, grammar.minClose(state))]
        while let (node, s, closeBefore) = pending.popLast() {
            for e in Int(index.firstEdge[Int(node)])..<Int(index.firstEdge[Int(node) + 1]) {
                let byte = index.edgeByte[e]
                let kept = grammar.keeps(s, byte)
                guard let next = kept ? s : grammar.step(s, byte) else { continue }
                let child = Int(index.edgeChild[e])
                let close = kept ? closeBefore : grammar.minClose(next)
                let first = Int(index.firstToken[child]), end = Int(index.firstToken[child + 1])
                if first < end {
                    if budget.map({ close <= $0 }) ?? true {
                        for t in index.tokens[first..<end] { mask.bits[Int(t) >> 6] |= 1 << UInt64(t & 63) }
                        mask.allowed += end - first
                        mask.maxClose = max(mask.maxClose, close)
                    }
                }
                if index.firstEdge[child] < index.firstEdge[child + 1] { pending.append((Int32(child), next, close)) }
            }
        }
        if mask.allowed <= index.vocabularySize / 16 {
            var list: [Int32] = []
            list.reserveCapacity(mask.allowed)
            for (w, word) in mask.bits.enumerated() {
                var m = word
                while m != 0 {
                    list.append(Int32(w << 6 | m.trailingZeroBitCount))
                    m &= m - 1
                }
            }
            mask.list = list
        }
        return mask
    }

    /// Sets every logit outside `mask` (and past the indexed vocabulary) to −infinity.
    static func apply(_ mask: StateMask, to logits: UnsafeMutableBufferPointer<Float>, vocabularySize: Int) {
        guard let list = mask.list else { return apply(mask.bits, to: logits, vocabularySize: vocabularySize) }
        let kept = list.map { logits[Int($0)] }
        logits.update(repeating: -.infinity)
        for (t, value) in zip(list, kept) { logits[Int(t)] = value }
    }

    /// Sets every logit outside `mask` (and past the indexed vocabulary) to −infinity.
    static func apply(_ mask: [UInt64], to logits: UnsafeMutableBufferPointer<Float>, vocabularySize: Int) {
        let covered = min(vocabularySize, logits.count)
        for w in 0..<((covered + 63) / 64) {
            var blocked = ~mask[w]
            while blocked != 0 {
                let i = w << 6 | blocked.trailingZeroBitCount
                if i >= covered { break }
                logits[i] = -.infinity
                blocked &= blocked - 1
            }
        }
        for i in covered..<logits.count { logits[i] = -.infinity }
    }
}

/// One sequence's grammar state.
final class GrammarCursor: TokenConstraintState {
    private let constraint: GrammarConstraint
    /// nil after a token no document allows (only if a caller fed one the mask excluded).
    private(set) var state: GrammarState?

    init(_ constraint: GrammarConstraint) {
        self.constraint = constraint
        state = constraint.grammar.start
    }

    func mask(_ logits: UnsafeMutableBufferPointer<Float>, remaining: Int) {
        guard let state, !state.isComplete else { return }
        var mask = constraint.mask(for: state)
        if mask.maxClose > remaining - 1 {
            let tight = constraint.mask(for: state, budget: remaining - 1)
            // Empty only when the budget was too small from the start: then the document cannot
            // close anyway, and the generation ends by length.
            if tight.allowed > 0 { mask = tight }
        }
        GrammarConstraint.apply(mask, to: logits, vocabularySize: constraint.index.vocabularySize)
    }

    func advance(_ token: Int) {
        guard var s = state, token < constraint.index.spelling.count else {
            state = nil
            return
        }
        for byte in constraint.index.spelling[token] {
            guard let next = constraint.grammar.step(s, byte) else {
                state = nil
                return
            }
            s = next
        }
        state = s
    }

    var isComplete: Bool { state?.isComplete ?? false }
}
