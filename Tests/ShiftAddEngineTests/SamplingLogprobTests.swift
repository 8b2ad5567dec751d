import Foundation
import ShiftAddEngine
import Testing

/// Log-probabilities: the log-softmax of the penalised logits, before temperature and truncation.
@Suite struct SamplingLogprobTests {
    @Test func chosenAndTopAlternativesMatchADirectLogSoftmax() throws {
        let logits = randomLogits(count: 1000, seed: 21)
        let direct = directLogSoftmax(logits)
        let ranked = rankedTokens(logits)
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0.7, topK: 20, seed: 4, logprobs: 5),
                                   vocabSize: logits.count)
        for _ in 0..<50 {
            let result = sample(&sampler, logits)
            #expect(abs(Double(try #require(result.logprob)) - direct[result.token]) < 1e-5)
            #expect(result.top.map(\.token) == Array(ranked.prefix(5)))
            for alternative in result.top { #expect(abs(Double(alternative.logprob) - direct[alternative.token]) < 1e-5) }
        }
    }

    @Test func allLogprobsSumToOne() {
        let logits = randomLogits(count: 16, seed: 5, spread: 4)
        var sampler = TokenSampler(parameters: SamplingParameters(seed: 1, logprobs: 16), vocabSize: 16)
        let result = sample(&sampler, logits)
        #expect(result.top.count == 16)
        #expect(abs(result.top.reduce(0.0) { $0 + Foundation.exp(Double($1.logprob)) } - 1) < 1e-6)
    }

    @Test func independentOfTemperatureAndTruncation() {
        let logits = randomLogits(count: 500, seed: 8)
        func top(_ parameters: SamplingParameters) -> [Float] {
            var sampler = TokenSampler(parameters: parameters, vocabSize: logits.count)
            return sample(&sampler, logits).top.map(\.logprob)
        }
        let reference = top(SamplingParameters(temperature: 0, logprobs: 10))
        #expect(top(SamplingParameters(temperature: 0.2, topK: 3, seed: 1, logprobs: 10)) == reference)
        #expect(top(SamplingParameters(temperature: 5, topP: 0.5, minP: 0.3, seed: 2, logprobs: 10)) == reference)
    }

    @Test func equalLogprobsAreOrderedByTokenId() {
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0, logprobs: 4), vocabSize: 6)
        let result = sample(&sampler, [1, 3, 3, 2, 3, 0])
        #expect(result.token == 1)
        #expect(result.top.map(\.token) == [1, 2, 4, 3])
        #expect(result.top[0].logprob == result.top[2].logprob)
    }

    @Test func countZeroGivesOnlyTheChosenToken() throws {
        var none = TokenSampler(parameters: SamplingParameters(temperature: 0), vocabSize: 3)
        let plain = sample(&none, [0, 1, 0])
        #expect(plain.logprob == nil && plain.top.isEmpty)
        var zero = TokenSampler(parameters: SamplingParameters(temperature: 0, logprobs: 0), vocabSize: 3)
        let chosen = sample(&zero, [0, 1, 0])
        #expect(chosen.top.isEmpty)
        #expect(abs(Double(try #require(chosen.logprob)) - directLogSoftmax([0, 1, 0])[1]) < 1e-6)
    }

    /// Partial selection on the full vocabulary gives the same top 20 as a full sort, ties included.
    @Test func topTwentyOnTheFullVocabulary() {
        let logits = randomLogits(count: 49_152, seed: 13, spread: 1)
        let direct = directLogSoftmax(logits)
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0, logprobs: 20), vocabSize: logits.count)
        let result = sample(&sampler, logits)
        #expect(result.top.map(\.token) == Array(rankedTokens(logits).prefix(20)))
        #expect(Set(result.top.map(\.logprob)).count < 20)
        for alternative in result.top { #expect(abs(Double(alternative.logprob) - direct[alternative.token]) < 1e-5) }
    }
}
