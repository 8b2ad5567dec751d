import ShiftAddEngine
import Testing

/// Repetition (Hugging Face), presence and frequency (OpenAI) penalties change the logits exactly as
/// specified; the penalised logits are read back through the log-probabilities of every token.
@Suite struct SamplingPenaltyTests {
    /// The penalised logits, up to the constant log-softmax subtracts, taken from the logprobs of all tokens.
    static func penalised(_ logits: [Float], _ parameters: SamplingParameters, prompt: [Int], generated: [Int]) -> [Double] {
        var p = parameters
        p.logprobs = logits.count
        p.temperature = 0
        var sampler = TokenSampler(parameters: p, vocabSize: logits.count)
        let result = sample(&sampler, logits, prompt: prompt, generated: generated)
        var values = [Double](repeating: 0, count: logits.count)
        for (token, logprob) in result.top { values[token] = Double(logprob) }
        return values
    }

    static func expectLogSoftmax(of expected: [Float], equals values: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        for (a, b) in zip(directLogSoftmax(expected), values) { #expect(abs(a - b) < 1e-5, sourceLocation: sourceLocation) }
    }

    static let logits: [Float] = [2, -2, 1, -1, 0.5, 3, -4, 0]

    @Test func allThreePenaltiesTogether() {
        let parameters = SamplingParameters(repetitionPenalty: 2, presencePenalty: 0.5, frequencyPenalty: 0.25)
        let prompt = [0, 1, 1, 7]
        let generated = [2, 2, 3, 0, 5, 5, 5]
        // Repetition over {0, 1, 2, 3, 5, 7}: positive / 2, negative × 2, zero stays zero.
        // Then generated counts 2→2, 3→1, 0→1, 5→3: logit −= count × 0.25 + 0.5.
        let expected: [Float] = [
            2 / 2 - (1 * 0.25 + 0.5), -2 * 2, 1 / 2 - (2 * 0.25 + 0.5), -1 * 2 - (1 * 0.25 + 0.5),
            0.5, 3 / 2 - (3 * 0.25 + 0.5), -4, 0,
        ]
        #expect(expected == [0.25, -4, -0.5, -2.75, 0.5, 0.25, -4, 0])
        Self.expectLogSoftmax(of: expected, equals: Self.penalised(Self.logits, parameters, prompt: prompt, generated: generated))
        // The penalties move the greedy choice from token 5 to token 4.
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 2, presencePenalty: 0.5,
                                                                  frequencyPenalty: 0.25), vocabSize: 8)
        #expect(sample(&sampler, Self.logits).token == 5)
        #expect(sample(&sampler, Self.logits, prompt: prompt, generated: generated).token == 4)
    }

    @Test func repetitionPenaltyCountsEachPromptOrGeneratedTokenOnce() {
        let values = Self.penalised(Self.logits, SamplingParameters(repetitionPenalty: 1.25), prompt: [5, 5, 5, 6],
                                    generated: [6, 7, 1])
        Self.expectLogSoftmax(of: [2, -2 * 1.25, 1, -1, 0.5, 3 / 1.25, -4 * 1.25, 0], equals: values)
    }

    @Test func presenceAndFrequencyIgnoreThePrompt() {
        let presence = Self.penalised(Self.logits, SamplingParameters(presencePenalty: 1.5), prompt: [0, 1, 2],
                                      generated: [3, 3, 3, 4])
        Self.expectLogSoftmax(of: [2, -2, 1, -1 - 1.5, 0.5 - 1.5, 3, -4, 0], equals: presence)
        let frequency = Self.penalised(Self.logits, SamplingParameters(frequencyPenalty: -0.5), prompt: [0, 1, 2],
                                       generated: [3, 3, 3, 4])
        Self.expectLogSoftmax(of: [2, -2, 1, -1 + 1.5, 0.5 + 0.5, 3, -4, 0], equals: frequency)
    }

    @Test func idsOutsideTheVocabularyAreIgnored() {
        let values = Self.penalised(Self.logits, SamplingParameters(repetitionPenalty: 2, frequencyPenalty: 1),
                                    prompt: [-1, 8, 100], generated: [-3, 9])
        Self.expectLogSoftmax(of: Self.logits, equals: values)
    }

    /// A sampler reuses its scratch between steps: each step sees only its own history.
    @Test func eachStepUsesOnlyItsOwnHistory() {
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 3, presencePenalty: 1,
                                                                  frequencyPenalty: 1, logprobs: 8), vocabSize: 8)
        func values(_ prompt: [Int], _ generated: [Int]) -> [Double] {
            let result = sample(&sampler, Self.logits, prompt: prompt, generated: generated)
            var v = [Double](repeating: 0, count: 8)
            for (token, logprob) in result.top { v[token] = Double(logprob) }
            return v
        }
        _ = values([0, 1, 2, 3, 4, 5, 6, 7], [5, 5, 0, 1])
        Self.expectLogSoftmax(of: Self.logits, equals: values([], []))
        Self.expectLogSoftmax(of: [2, -2, 1, -1, 0.5, 3 / 3 - 2, -4, 0], equals: values([], [5]))
    }
}
