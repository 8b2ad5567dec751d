import ShiftAddEngine

/// One generation: a prompt, how to sample and when to stop.
public struct GenerationRequest: Sendable {
    public enum Prompt: Sendable {
        case text(String)
        case tokens([Int])
    }

    public var prompt: Prompt
    /// Text prompts only: BOS and the like as the tokenizer asks (chat renders already hold them: pass false).
    public var addSpecialTokens: Bool
    public var sampling: SamplingParameters
    /// nil = until the context is full; 0 computes the prompt and generates nothing.
    public var maxTokens: Int?
    /// nil = none; n = each prompt token's log-probability after the ones before it, with the n most
    /// likely alternatives (raw model log-probabilities: no penalties or biases). Sent as
    /// `.promptLogprobs` before the first token. Such a prompt is computed in full, not read from
    /// the prefix cache.
    public var promptLogprobs: Int?
    /// Strings that end the generation; matched across token boundaries and never emitted.
    public var stop: [String]
    public var stopTokenIds: [Int]
    /// Keep going past the end-of-generation tokens (EOS, end of turn).
    public var ignoreEOS: Bool
    /// Past this instant the request finishes with reason `.error` ("deadline exceeded").
    public var deadline: ContinuousClock.Instant?
    /// Masks each step's logits (e.g. to a JSON schema); the generation stops when it is complete.
    public var constraint: (any TokenConstraint)?

    public init(prompt: Prompt, addSpecialTokens: Bool = true, sampling: SamplingParameters = SamplingParameters(),
                maxTokens: Int? = nil, promptLogprobs: Int? = nil, stop: [String] = [], stopTokenIds: [Int] = [], ignoreEOS: Bool = false,
                deadline: ContinuousClock.Instant? = nil, constraint: (any TokenConstraint)? = nil) {
        self.prompt = prompt
        self.addSpecialTokens = addSpecialTokens
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.promptLogprobs = promptLogprobs
        self.stop = stop
        self.stopTokenIds = stopTokenIds
        self.ignoreEOS = ignoreEOS
        self.deadline = deadline
        self.constraint = constraint
    }
}
