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
    /// nil = until the context is full.
    public var maxTokens: Int?
    /// Strings that end the generation; matched across token boundaries and never emitted.
    public var stop: [String]
    public var stopTokenIds: [Int]
    /// Keep going past the end-of-generation tokens (EOS, end of turn).
    public var ignoreEOS: Bool
    /// Past this instant the request finishes with reason `.error` ("deadline exceeded").
    public var deadline: ContinuousClock.Instant?

    public init(prompt: Prompt, addSpecialTokens: Bool = true, sampling: SamplingParameters = SamplingParameters(),
                maxTokens: Int? = nil, stop: [String] = [], stopTokenIds: [Int] = [], ignoreEOS: Bool = false,
                deadline: ContinuousClock.Instant? = nil) {
        self.prompt = prompt
        self.addSpecialTokens = addSpecialTokens
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.stopTokenIds = stopTokenIds
        self.ignoreEOS = ignoreEOS
        self.deadline = deadline
    }
}
