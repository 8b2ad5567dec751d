/// How a request picks each next token. The defaults sample from the model's distribution as is.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 = greedy.
    public var temperature: Float
    /// 0 = off.
    public var topK: Int
    public var topP: Float
    public var minP: Float
    /// nil = a random seed.
    public var seed: UInt64?
    /// Over prompt and generated tokens, Hugging Face convention (> 1 discourages repeats).
    public var repetitionPenalty: Float
    /// Over generated tokens, OpenAI convention.
    public var presencePenalty: Float
    public var frequencyPenalty: Float
    /// nil = none; n = the chosen token's log-probability and the top n alternatives (0...20).
    public var logprobs: Int?
    /// Added to these tokens' logits after the penalties, before sampling and log-probabilities.
    public var logitBias: [Int: Float]

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0, seed: UInt64? = nil,
                repetitionPenalty: Float = 1, presencePenalty: Float = 0, frequencyPenalty: Float = 0,
                logprobs: Int? = nil, logitBias: [Int: Float] = [:]) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.logprobs = logprobs
        self.logitBias = logitBias
    }

    /// Top-p 0 keeps only the most likely token, which is greedy decoding: these parameters with
    /// temperature 0 and top-p 1 then. How the HTTP API and `shiftadd generate` read a top-p of 0.
    public var zeroTopPAsGreedy: SamplingParameters {
        guard topP == 0 else { return self }
        var p = self
        p.temperature = 0
        p.topP = 1
        return p
    }
}
