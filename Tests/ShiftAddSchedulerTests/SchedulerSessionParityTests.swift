import ShiftAddEngine
import ShiftAddScheduler
import ShiftAddTokenizer
import Testing

/// The seed contract: a request through the scheduler, and the same prompt, seed and settings
/// decoded on a session as `shiftadd generate` decodes them, give the same tokens, batched or not.
@Suite struct SchedulerSessionParityTests {
    static let maxTokens = 24

    /// The tokens `shiftadd generate` draws after `prompt`: its prompt encoding, then `decode`.
    static func generate(_ prompt: String, _ sampling: SamplingParameters, model: QuantizedModel,
                         tokenizer: Tokenizer) -> (prompt: [Int], tokens: [Int]) {
        let tokens = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        return (tokens, decode(tokens, sampling, model: model, tokenizer: tokenizer))
    }

    /// `shiftadd generate`'s decoding: `DecodingSession.generate` on a session of its own.
    static func decode(_ prompt: [Int], _ sampling: SamplingParameters, model: QuantizedModel, tokenizer: Tokenizer) -> [Int] {
        let session = model.session(capacity: prompt.count + maxTokens)
        var sampler = TokenSampler(parameters: sampling, vocabSize: model.config.vocabSize)
        return session.generate(prompt: prompt, maxTokens: maxTokens, sampler: &sampler, stopTokens: tokenizer.endOfGenerationIds)
    }

    @Test func aSessionDrawsTheTokensOfABatchedRequest() throws {
        let (model, tokenizer) = try TinySchedulerModel.make()
        let scheduler = try TinySchedulerModel.scheduler()
        defer { scheduler.shutdown() }
        let prompts = ["The capital of France is", "Once upon a time", "0123456789 abcdef", "é€😀 and more"]
        // Submitted while the engine is held, so all four share their steps.
        let gate = try Gate(scheduler)
        let recorders = try prompts.indices.map { i in
            try scheduler.start(GenerationRequest(prompt: .text(prompts[i]), sampling: seededSampling(UInt64(i)),
                                                  maxTokens: Self.maxTokens)).1
        }
        gate.open()
        for (i, prompt) in prompts.enumerated() {
            let log = recorders[i].wait()
            let alone = Self.generate(prompt, seededSampling(UInt64(i)), model: model, tokenizer: tokenizer)
            #expect(log.prompt == alone.prompt)
            #expect(log.tokens == alone.tokens)
            #expect(log.tokens.count == Self.maxTokens)
        }
    }

    @Test func bothStopAtTheSameEndOfSequenceToken() throws {
        let prompt = randomTokens(12, seed: 5)
        let sampling = seededSampling(9)
        let (plain, plainTokenizer) = try TinySchedulerModel.make()
        // The seventh token of an unstopped run (or an earlier occurrence of it) ends the run.
        let eos = Self.decode(prompt, sampling, model: plain, tokenizer: plainTokenizer)[6]
        let (model, tokenizer) = try TinySchedulerModel.make(eos: eos)
        let (schedulerModel, schedulerTokenizer) = try TinySchedulerModel.make(eos: eos)
        let scheduler = try Scheduler(model: schedulerModel, tokenizer: schedulerTokenizer)
        defer { scheduler.shutdown() }
        let log = try scheduler.run(GenerationRequest(prompt: .tokens(prompt), sampling: sampling, maxTokens: Self.maxTokens))
        let alone = Self.decode(prompt, sampling, model: model, tokenizer: tokenizer)
        #expect(log.reason == .stop)
        #expect(log.tokens == alone)
        #expect(alone.last == eos && alone.count <= 7)
    }
}
