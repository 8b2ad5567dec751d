import ShiftAddEngine
import Synchronization

/// A model whose next token the test decides from the history, for checking the scheduler on exactly
/// the tokens a test needs (stop strings, stop tokens, held or cancelled generations).
///
/// It keeps the token written at each cached position in a shadow of the paged cache, so the
/// history handed to `next` is what the block tables really hold: a scheduler that shared or
/// reused a block wrongly would see the script answer differently.
///
/// With a `window` it has a second layer that reads only the last `window` positions, kept in the
/// cache's window slots: the history's last `window` tokens come from the shadow of those slots
/// (-1 where a block has lost its slot), so a slot freed or reused too early changes the answer.
public final class ScriptedModel: BatchedModel, @unchecked Sendable {
    public let vocabularySize: Int
    public let contextLength: Int
    public let maxBatchTokens: Int
    public let attentionWindow: Int?
    private let next: @Sendable (_ history: [Int]) -> Int
    private let onForward: (@Sendable (_ call: Int) -> Void)?
    /// Confined to the one thread that runs `forward` (the scheduler's engine thread).
    private var shadow: [Int32: [Int]] = [:]
    private var windowShadow: [Int32: [Int]] = [:]
    private var calls = 0
    private let slotsInUse = Mutex(0)

    /// `onForward` runs at the start of every forward pass with its 0-based index, on the calling
    /// thread: a test can block there to hold a generation open, or act at a chosen step.
    public init(vocabularySize: Int, contextLength: Int = 256, maxBatchTokens: Int = 512, window: Int? = nil,
                onForward: (@Sendable (_ call: Int) -> Void)? = nil, next: @escaping @Sendable (_ history: [Int]) -> Int) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.maxBatchTokens = maxBatchTokens
        attentionWindow = window
        self.onForward = onForward
        self.next = next
    }

    /// The most window slots attached at once during any forward pass so far.
    public var peakWindowSlots: Int { slotsInUse.withLock { $0 } }

    public func makeCache(blocks: Int, windowSlots: Int, blockSize: Int) -> PagedKVCache {
        shadow = [:]
        windowShadow = [:]
        guard let attentionWindow else { return PagedKVCache(layers: 1, kvDim: 1, blockSize: blockSize, blockCount: blocks) }
        return PagedKVCache(layers: 2, kvDim: 1, blockSize: blockSize, blockCount: blocks, window: attentionWindow,
                            windowedLayers: [1], windowSlots: windowSlots)
    }

    public func cacheBytesPerBlock(blockSize: Int) -> Int {
        PagedKVCache.bytesPerBlock(layers: 1, kvDim: 1, blockSize: blockSize)
    }

    public func cacheBytesPerWindowSlot(blockSize: Int) -> Int {
        attentionWindow == nil ? 0 : PagedKVCache.bytesPerBlock(layers: 1, kvDim: 1, blockSize: blockSize)
    }

    public func forward(_ entries: [ForwardEntry], cache: PagedKVCache) -> [Float] {
        onForward?(calls)
        calls += 1
        let n = entries.reduce(0) { $0 + $1.tokens.count }
        precondition(n > 0 && n <= maxBatchTokens, "batch of \(n) tokens (limit \(maxBatchTokens))")
        let bs = cache.blockSize
        var rows: [Float] = []
        for e in entries {
            precondition(e.start + e.tokens.count <= min(contextLength, e.blocks.count * bs), "cache space not reserved")
            for (i, token) in e.tokens.enumerated() {
                precondition((0..<vocabularySize).contains(token), "token \(token) outside the vocabulary")
                let p = e.start + i
                shadow[e.blocks[p / bs], default: [Int](repeating: -1, count: bs)][p % bs] = token
                if attentionWindow != nil {
                    let slot = cache.windowSlot(of: e.blocks[p / bs])
                    precondition(slot != nil, "position \(p) written outside the window storage")
                    windowShadow[slot!, default: [Int](repeating: -1, count: bs)][p % bs] = token
                }
                let wanted = switch e.logits {
                case .none: false
                case .last: i == e.tokens.count - 1
                case .all: true
                }
                if wanted { rows += logits(after: history(e.blocks, through: p, cache: cache)) }
            }
        }
        let attached = cache.windowSlotCount - cache.freeWindowSlots
        slotsInUse.withLock { $0 = max($0, attached) }
        return rows
    }

    /// Positions 0...p as the block table holds them, the window's from its slots.
    private func history(_ table: [Int32], through p: Int, cache: PagedKVCache) -> [Int] {
        let bs = cache.blockSize
        let windowFrom = attentionWindow.map { p + 1 - $0 } ?? p + 1
        return (0...p).map { q in
            let b = table[q / bs]
            guard q >= windowFrom else { return shadow[b]![q % bs] }
            guard let slot = cache.windowSlot(of: b) else { return -1 }
            return windowShadow[slot]?[q % bs] ?? -1
        }
    }

    /// The token `next` picks for `history`, made overwhelmingly likely (logit 30, the rest 0).
    private func logits(after history: [Int]) -> [Float] {
        let token = next(history)
        precondition((0..<vocabularySize).contains(token), "scripted token \(token) outside the vocabulary")
        var values = [Float](repeating: 0, count: vocabularySize)
        values[token] = 30
        return values
    }
}

extension ScriptedModel {
    /// Answers any `promptLength`-token prompt with `answer`, cycling: the k-th generated token is
    /// `answer[k % answer.count]`.
    public static func answering(_ answer: [Int], promptLength: Int, vocabularySize: Int,
                                 contextLength: Int = 256) -> ScriptedModel {
        ScriptedModel(vocabularySize: vocabularySize, contextLength: contextLength) { history in
            answer[(history.count - promptLength) % answer.count]
        }
    }
}
