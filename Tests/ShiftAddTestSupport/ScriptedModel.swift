import ShiftAddEngine

/// A model whose next token the test decides from the history, for checking the scheduler on exactly
/// the tokens a test needs (stop strings, stop tokens, held or cancelled generations).
///
/// It keeps the token written at each cached position in a shadow of the paged cache, so the
/// history handed to `next` is what the block tables really hold: a scheduler that shared or
/// reused a block wrongly would see the script answer differently.
public final class ScriptedModel: BatchedModel, @unchecked Sendable {
    public let vocabularySize: Int
    public let contextLength: Int
    public let maxBatchTokens: Int
    private let next: @Sendable (_ history: [Int]) -> Int
    private let onForward: (@Sendable (_ call: Int) -> Void)?
    /// Confined to the one thread that runs `forward` (the scheduler's engine thread).
    private var shadow: [Int32: [Int]] = [:]
    private var calls = 0

    /// `onForward` runs at the start of every forward pass with its 0-based index, on the calling
    /// thread: a test can block there to hold a generation open, or act at a chosen step.
    public init(vocabularySize: Int, contextLength: Int = 256, maxBatchTokens: Int = 512,
                onForward: (@Sendable (_ call: Int) -> Void)? = nil, next: @escaping @Sendable (_ history: [Int]) -> Int) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.maxBatchTokens = maxBatchTokens
        self.onForward = onForward
        self.next = next
    }

    public func makeCache(blocks: Int, blockSize: Int) -> PagedKVCache {
        shadow = [:]
        return PagedKVCache(layers: 1, kvDim: 1, blockSize: blockSize, blockCount: blocks)
    }

    public func cacheBytesPerBlock(blockSize: Int) -> Int {
        PagedKVCache.bytesPerBlock(layers: 1, kvDim: 1, blockSize: blockSize)
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
                let wanted = switch e.logits {
                case .none: false
                case .last: i == e.tokens.count - 1
                case .all: true
                }
                if wanted { rows += logits(after: (0...p).map { shadow[e.blocks[$0 / bs]]![$0 % bs] }) }
            }
        }
        return rows
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
