import ShiftAddEngine
import ShiftAddTokenizer

/// One request inside the engine: its tokens, sampling and text state, block table and timings.
///
/// Keys and values exist for positions `0..<computed`; the tokens from `computed` on are the next
/// input. Decoding is the case of one pending token, so a preempted sequence (computed reset to 0)
/// simply prefills its prompt and generated tokens again, and its sampler carries on unchanged.
///
/// Engine thread only.
final class GenerationSequence {
    let id: GenerationID
    let prompt: [Int]
    private(set) var generated: [Int] = []
    /// Total tokens (prompt + generated) at which generation ends with `.length`.
    let limit: Int
    var sampler: TokenSampler
    var text: TextStream
    /// Tokens that end the generation with `.stop`: stop token ids, plus end-of-generation ids unless ignored.
    let stopTokens: Set<Int>
    let wantsLogprobs: Bool
    /// Alternatives per prompt token while its log-probabilities are still owed (nil: none or sent).
    var promptLogprobs: Int?
    /// Prompt log-probabilities gathered so far, the first token's unscored.
    var promptEntries: [TokenLogprob] = []
    /// The first choice of the same request: this one joins the batch once that one's prompt is computed.
    var leader: GenerationSequence?
    /// The prompt has been computed once (or the sequence ended): choices waiting on it may go.
    var promptDone = false
    let constraint: (any TokenConstraintState)?
    let deadline: ContinuousClock.Instant?
    let events: @Sendable (GenerationEvent) -> Void

    var blocks: [Int32] = []
    var computed = 0
    /// Index of the first block the sequence holds a window reference to (see `BlockManager`).
    var windowStart = 0
    /// Leading blocks already offered to the prefix cache, and the key of the last of them.
    var hashedBlocks = 0
    var chainHash = BlockManager.root
    /// Cleared after a hash collision: later blocks of this sequence stay private.
    var caching = true

    let submitted: ContinuousClock.Instant
    var admitted: ContinuousClock.Instant?
    var firstToken: ContinuousClock.Instant?
    var lastToken: ContinuousClock.Instant?
    var cachedPromptTokens = 0

    init(_ s: Submission, tokenizer: Tokenizer, vocabularySize: Int, contextLength: Int) {
        id = s.id
        prompt = s.prompt
        let r = s.request
        limit = min(contextLength, prompt.count + (r.maxTokens ?? contextLength))
        var parameters = r.sampling
        parameters.seed = s.seed
        sampler = TokenSampler(parameters: parameters, vocabSize: vocabularySize)
        text = TextStream(tokenizer: tokenizer, stop: r.stop)
        stopTokens = Set(r.stopTokenIds).union(r.ignoreEOS ? [] : tokenizer.endOfGenerationIds)
        wantsLogprobs = r.sampling.logprobs != nil
        promptLogprobs = r.promptLogprobs
        constraint = r.constraint?.start()
        deadline = r.deadline
        events = s.events
        submitted = s.submitted
    }

    var count: Int { prompt.count + generated.count }
    /// Tokens whose keys and values still have to be computed (at least one while running).
    var pending: Int { count - computed }
    var isDecoding: Bool { pending == 1 }

    func tokens(_ range: Range<Int>) -> [Int] {
        range.map { $0 < prompt.count ? prompt[$0] : generated[$0 - prompt.count] }
    }

    var allTokens: [Int] { prompt + generated }

    func append(_ token: Int) { generated.append(token) }

    /// Forgets the cache state (its blocks were released): the sequence recomputes from scratch.
    func resetCache() {
        if promptLogprobs != nil { promptEntries = [] }
        blocks = []
        computed = 0
        windowStart = 0
        hashedBlocks = 0
        chainHash = BlockManager.root
        caching = true
    }
}
