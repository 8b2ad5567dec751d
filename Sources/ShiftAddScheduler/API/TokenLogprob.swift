/// One of the most likely tokens at a position, with its log-probability.
public struct TokenAlternative: Sendable {
    public let token: Int
    /// The token's bytes read as UTF-8 (a partial character becomes U+FFFD).
    public let text: String
    public let bytes: [UInt8]
    public let logprob: Float

    public init(token: Int, text: String, bytes: [UInt8], logprob: Float) {
        self.token = token
        self.text = text
        self.bytes = bytes
        self.logprob = logprob
    }
}

/// The chosen token's log-probability and the top alternatives at its position.
public struct TokenLogprob: Sendable {
    public let token: Int
    public let text: String
    public let bytes: [UInt8]
    /// NaN for the first prompt token, which nothing predicts.
    public let logprob: Float
    public let top: [TokenAlternative]

    public init(token: Int, text: String, bytes: [UInt8], logprob: Float, top: [TokenAlternative]) {
        self.token = token
        self.text = text
        self.bytes = bytes
        self.logprob = logprob
        self.top = top
    }
}
