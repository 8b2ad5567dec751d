/// Sizes the prompt chunks that share a step with decoding sequences, so that such a step takes at
/// most `slowdown` times a decode-only step and the running streams' inter-token latency stays
/// level while a long prompt is computed.
///
/// A fixed token budget cannot do this: a prompt token's cost grows with its position (it attends
/// to every earlier one), so the 64-token chunks near the end of a 2,000-token prompt cost several
/// times those near its start. The pacer measures instead: the cost per prompt token of the last
/// mixed step (its time beyond a decode-only step's, per prompt token) sets the next step's budget.
/// The budget at most doubles from one mixed step to the next, and a run of mixed steps after
/// decode-only ones starts from the floor: the last measured cost may be that of a cheaper prompt
/// (shorter, or earlier positions), and one step that runs long delays every stream at once.
/// Batching never changes a sequence's results, so timing-driven chunking changes only latency.
public struct PrefillPacer: Sendable {
    /// The configured ceiling (`prefillTokensWhileDecoding`).
    public let maxTokens: Int
    /// The floor: a prompt always progresses, however slow its tokens are.
    public let minTokens: Int
    /// A mixed step's target duration, as a multiple of a decode-only step's.
    public let slowdown: Double
    /// Smoothed duration of recent decode-only steps; nil until one ran.
    public private(set) var decodeSeconds: Double?
    /// Prompt tokens the next step that also decodes may take.
    public private(set) var budget: Int

    public init(maxTokens: Int, slowdown: Double = 1.5) {
        precondition(maxTokens > 0 && slowdown > 1)
        self.maxTokens = maxTokens
        minTokens = min(8, maxTokens)
        self.slowdown = slowdown
        budget = minTokens
    }

    /// A step that only decoded took `seconds`.
    public mutating func decoded(seconds: Double) {
        // Smoothed so that one descheduled step does not swing the reference.
        decodeSeconds = decodeSeconds.map { 0.8 * $0 + 0.2 * seconds } ?? seconds
        budget = minTokens
    }

    /// A step that decoded and computed `promptTokens` prompt tokens took `seconds`.
    public mutating func mixed(seconds: Double, promptTokens: Int) {
        guard promptTokens > 0 else { return }
        let grown = min(maxTokens, 2 * budget)
        // No decode-only step to compare with yet: nothing says the chunks are too large.
        guard let decode = decodeSeconds else {
            budget = grown
            return
        }
        let perToken = (seconds - decode) / Double(promptTokens)
        let fitting = perToken > 0 ? (slowdown - 1) * decode / perToken : Double(maxTokens)
        budget = fitting >= Double(grown) ? grown : max(minTokens, Int(fitting))
    }
}
