import ShiftAddEngine
import ShiftAddScheduler
import Synchronization
import Testing

/// Several choices of one request, prompt log-probabilities and a prompt-only request.
@Suite struct SchedulerChoicesTests {
    /// Choice i of a request with seed s is the request alone with seed s + i.
    @Test func eachChoiceEqualsTheRequestAloneWithItsDerivedSeed() throws {
        let scheduler = try TinySchedulerModel.scheduler()
        defer { scheduler.shutdown() }
        let prompt = randomTokens(37, seed: 3)
        let sampling = SamplingParameters(temperature: 1.5, seed: 11, logprobs: 2)
        let request = GenerationRequest(prompt: .tokens(prompt), sampling: sampling, maxTokens: 12)
        let recorders = (0..<4).map { _ in Recorder() }
        let ids = try scheduler.submit(request, choices: 4) { i, event in recorders[i].handler(event) }
        #expect(ids.count == 4)
        let logs = recorders.map { $0.wait() }
        for (i, log) in logs.enumerated() {
            var alone = request
            alone.sampling.seed = 11 + UInt64(i)
            let single = try scheduler.run(alone)
            #expect(log.malformed.isEmpty)
            #expect(log.tokens == single.tokens, "choice \(i)")
            #expect(log.logprobs.map(\.logprob) == single.logprobs.map(\.logprob), "choice \(i)")
        }
        #expect(Set(logs.map(\.tokens)).count > 1)
        // The later choices found the first one's two full prompt blocks in the prefix cache.
        #expect(logs.dropFirst().allSatisfy { $0.summary?.cachedPromptTokens == 32 })
    }

    /// Each prompt token's log-probability equals the log-softmax of a plain forward pass over the
    /// prompt, with the prompt computed in chunks and even when its blocks are in the prefix cache.
    @Test func promptLogprobsEqualAForwardPassOverThePrompt() throws {
        let (model, _) = try TinySchedulerModel.make()
        let prompt = randomTokens(45, seed: 8)
        let cache = model.makeCache(blocks: 8, blockSize: 16)
        let sequence = PagedSequence(cache: cache)
        #expect(sequence.reserve(prompt.count))
        let logits = model.forward([(tokens: prompt, sequence: sequence)], allLogits: true)
        let vocab = model.config.vocabSize
        let expected = logits.withUnsafeBufferPointer { all in
            (1..<prompt.count).map { p in
                LogSoftmax.score(prompt[p], alternatives: 3,
                                 logits: UnsafeBufferPointer(rebasing: all[((p - 1) * vocab)..<(p * vocab)]))
            }
        }

        let scheduler = try TinySchedulerModel.scheduler { $0.maxBatchTokens = 16 }
        defer { scheduler.shutdown() }
        // The first run leaves the prompt's blocks in the prefix cache; the second must not use them.
        for _ in 0..<2 {
            let log = try scheduler.run(GenerationRequest(prompt: .tokens(prompt), maxTokens: 0, promptLogprobs: 3))
            #expect(log.malformed.isEmpty)
            #expect(log.tokens.isEmpty)
            #expect(log.reason == .length)
            let entries = try #require(log.promptLogprobs)
            #expect(entries.count == prompt.count)
            #expect(entries.map(\.token) == prompt)
            #expect(entries[0].logprob.isNaN && entries[0].top.isEmpty)
            #expect(entries.dropFirst().map(\.logprob) == expected.map { $0.logprob! })
            #expect(entries.dropFirst().map { $0.top.map(\.token) } == expected.map { $0.top.map(\.token) })
        }
    }

    /// A −100 bias on the token greedy decoding picks keeps it from being picked.
    @Test func aNegativeBiasStopsTheGreedyToken() throws {
        let scheduler = try TinySchedulerModel.scheduler()
        defer { scheduler.shutdown() }
        let prompt = randomTokens(9, seed: 21)
        let plain = try scheduler.run(GenerationRequest(prompt: .tokens(prompt), sampling: .init(temperature: 0, logprobs: 1),
                                                        maxTokens: 1))
        let greedy = try #require(plain.tokens.first)
        let biased = try scheduler.run(GenerationRequest(
            prompt: .tokens(prompt), sampling: .init(temperature: 0, logprobs: 1, logitBias: [greedy: -100]), maxTokens: 1))
        #expect(biased.tokens.count == 1 && biased.tokens != [greedy])
        // Log-probabilities are those of the biased logits.
        #expect(biased.logprobs[0].top.allSatisfy { $0.token != greedy })
    }
}
