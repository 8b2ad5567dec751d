/// Why a generation ended.
public enum FinishReason: String, Sendable {
    /// An end-of-generation token, a stop token id or a stop string.
    case stop
    /// maxTokens reached or the context full.
    case length
    case cancelled
    /// See `GenerationSummary.error` (e.g. "deadline exceeded").
    case error
}

/// Totals of one finished generation.
public struct GenerationSummary: Sendable {
    public let reason: FinishReason
    /// The message when `reason == .error`.
    public let error: String?
    public let promptTokens: Int
    /// Prompt tokens whose keys and values came from the prefix cache (at the first admission).
    public let cachedPromptTokens: Int
    public let completionTokens: Int
    /// From submit to the first admission into the batch (the whole wait when never admitted).
    public let queueSeconds: Double
    /// From submit to the first generated token.
    public let timeToFirstTokenSeconds: Double?
    /// From submit to finish.
    public let totalSeconds: Double

    public init(reason: FinishReason, error: String?, promptTokens: Int, cachedPromptTokens: Int, completionTokens: Int,
                queueSeconds: Double, timeToFirstTokenSeconds: Double?, totalSeconds: Double) {
        self.reason = reason
        self.error = error
        self.promptTokens = promptTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.completionTokens = completionTokens
        self.queueSeconds = queueSeconds
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.totalSeconds = totalSeconds
    }
}

/// What a request's callback receives, in order: `.started` once (unless it ends before admission),
/// `.delta` for each sampled token, `.finished` exactly once and last.
public enum GenerationEvent: Sendable {
    /// Admitted to the batch; the prompt as tokenized.
    case started(promptTokens: [Int])
    /// With `promptLogprobs`: one entry per prompt token, the first with a NaN log-probability (no
    /// context predicts it) and no alternatives.
    case promptLogprobs([TokenLogprob])
    /// `text` is valid UTF-8 and may be "" while the bytes of a character or a possible stop string
    /// wait; `logprobs` has one entry per token when the request asked for them.
    case delta(text: String, tokens: [Int], logprobs: [TokenLogprob])
    case finished(GenerationSummary)
}
