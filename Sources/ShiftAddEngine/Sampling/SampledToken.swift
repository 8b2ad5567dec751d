/// The token a `TokenSampler` picked, with log-probabilities when the request asked for them.
public struct SampledToken: Sendable {
    public let token: Int
    /// log p(token) under the penalised logits (before temperature and truncation); nil unless requested.
    public let logprob: Float?
    /// The most likely tokens at this position, most likely first (equal log-probabilities: lower id first).
    public let top: [(token: Int, logprob: Float)]

    public init(token: Int, logprob: Float?, top: [(token: Int, logprob: Float)]) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}
