import Foundation
import ShiftAddEngine
import Testing

/// Greedy choice, seeded draws and truncation by top-k, top-p and min-p.
@Suite struct SamplingTests {
    static let vocabulary = 49_152

    @Test func greedyPicksTheFirstLargestLogit() {
        for parameters in [SamplingParameters(temperature: 0),
                           SamplingParameters(temperature: 0, topK: 3, topP: 0.1, minP: 0.9, seed: 5)] {
            var sampler = TokenSampler(parameters: parameters, vocabSize: 4)
            #expect(sample(&sampler, [0.5, 2, -1, 2]).token == 1)
        }
        var logits = randomLogits(count: Self.vocabulary, seed: 1)
        let top = logits.max()! + 1
        logits[30_000] = top
        logits[20_000] = top
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0), vocabSize: Self.vocabulary)
        #expect(sample(&sampler, logits).token == 20_000)
    }

    @Test func topKOfOneIsGreedy() {
        for seed in UInt64(0)..<24 {
            let logits = randomLogits(count: seed < 4 ? Self.vocabulary : 1000, seed: seed)
            let greedy = rankedTokens(logits)[0]
            for temperature: Float in [0.3, 1, 3] {
                var sampler = TokenSampler(parameters: SamplingParameters(temperature: temperature, topK: 1, seed: seed),
                                           vocabSize: logits.count)
                for _ in 0..<5 { #expect(sample(&sampler, logits).token == greedy) }
            }
        }
    }

    @Test func sameSeedSameTokens() {
        let steps = (UInt64(0)..<60).map { randomLogits(count: Self.vocabulary, seed: 100 + $0, spread: 1.5) }
        func run(_ seed: UInt64?, _ parameters: SamplingParameters) -> [Int] {
            var p = parameters
            p.seed = seed
            var sampler = TokenSampler(parameters: p, vocabSize: Self.vocabulary)
            var generated: [Int] = []
            for logits in steps { generated.append(sample(&sampler, logits, prompt: [1, 2, 3], generated: generated).token) }
            return generated
        }
        let settings = [SamplingParameters(temperature: 1), SamplingParameters(temperature: 0.8, topK: 40),
                        SamplingParameters(temperature: 1.2, topP: 0.95, minP: 0.02, repetitionPenalty: 1.1,
                                           presencePenalty: 0.3, frequencyPenalty: 0.2)]
        for parameters in settings {
            let first = run(42, parameters)
            #expect(first == run(42, parameters))
            #expect(first != run(43, parameters))
        }
        // Without a seed each sampler starts from its own random one.
        #expect(run(nil, settings[0]) != run(nil, settings[0]))
    }

    @Test func topKKeepsTheKMostLikely() {
        let counts = drawCounts(SamplingParameters(topK: 3, seed: 11), logits(for: [0.3, 0.25, 0.2, 0.15, 0.1]), draws: 3000)
        #expect(Set(counts.keys) == [0, 1, 2])
        #expect(abs(Double(counts[0]!) / 3000 - 0.3 / 0.75) < 0.03)
    }

    @Test func topPKeepsTheSmallestHeadReachingP() {
        let l = logits(for: [0.5, 0.3, 0.1, 0.06, 0.04])
        #expect(Set(drawCounts(SamplingParameters(topP: 0.85, seed: 1), l, draws: 3000).keys) == [0, 1, 2])
        #expect(Set(drawCounts(SamplingParameters(topP: 0.75, seed: 2), l, draws: 3000).keys) == [0, 1])
        #expect(Set(drawCounts(SamplingParameters(topP: 0.3, seed: 3), l, draws: 500).keys) == [0])
        let counts = drawCounts(SamplingParameters(topP: 0.85, seed: 4), l, draws: 6000)
        #expect(abs(Double(counts[2]!) / 6000 - 0.1 / 0.9) < 0.02)
    }

    @Test func topPAppliesToWhatTopKKept() {
        let l = logits(for: [0.4, 0.3, 0.2, 0.1])
        // Top-2 renormalised is (0.57, 0.43): the first token alone reaches 0.5.
        #expect(Set(drawCounts(SamplingParameters(topK: 2, topP: 0.5, seed: 1), l, draws: 1000).keys) == [0])
        #expect(Set(drawCounts(SamplingParameters(topP: 0.5, seed: 1), l, draws: 1000).keys) == [0, 1])
    }

    @Test func minPKeepsTokensNearTheMostLikely() {
        let l = logits(for: [0.5, 0.3, 0.1, 0.06, 0.04])
        // p / p_max = 1, 0.6, 0.2, 0.12, 0.08.
        let counts = drawCounts(SamplingParameters(minP: 0.15, seed: 9), l, draws: 4000)
        #expect(Set(counts.keys) == [0, 1, 2])
        #expect(abs(Double(counts[0]!) / 4000 - 0.5 / 0.9) < 0.03)
        // At temperature 2 the ratios are square roots: 1, 0.77, 0.45, 0.35, 0.28.
        #expect(Set(drawCounts(SamplingParameters(temperature: 2, minP: 0.3, seed: 9), l, draws: 4000).keys) == [0, 1, 2, 3])
        #expect(Set(drawCounts(SamplingParameters(minP: 1, seed: 9), l, draws: 200).keys) == [0])
    }

    @Test func frequenciesFollowTheTemperedDistribution() {
        let l = logits(for: [0.6, 0.3, 0.1])
        let plain = drawCounts(SamplingParameters(seed: 7), l, draws: 20_000)
        #expect(abs(Double(plain[0]!) / 20_000 - 0.6) < 0.015)
        #expect(abs(Double(plain[2]!) / 20_000 - 0.1) < 0.015)
        // Temperature 0.5 squares the probabilities: (0.36, 0.09, 0.01) / 0.46.
        let sharp = drawCounts(SamplingParameters(temperature: 0.5, seed: 7), l, draws: 20_000)
        #expect(abs(Double(sharp[0]!) / 20_000 - 0.36 / 0.46) < 0.015)
        #expect(abs(Double(sharp[2]!) / 20_000 - 0.01 / 0.46) < 0.01)
    }

    /// On the full vocabulary, partial selection keeps exactly the tokens a full sort keeps.
    @Test func largeVocabularyTruncationMatchesAFullSort() {
        let logits = randomLogits(count: Self.vocabulary, seed: 3, spread: 2)
        let ranked = rankedTokens(logits)
        let probabilities = directLogSoftmax(logits).map { Foundation.exp($0) }
        func head(reaching p: Double) -> Set<Int> {
            var total = 0.0
            var kept: Set<Int> = []
            for t in ranked {
                kept.insert(t)
                total += probabilities[t]
                if total >= p { break }
            }
            return kept
        }
        let maxP = probabilities[ranked[0]]
        let cases: [(SamplingParameters, Set<Int>)] = [
            (SamplingParameters(topK: 50, seed: 1), Set(ranked.prefix(50))),
            (SamplingParameters(topK: 7, seed: 2), Set(ranked.prefix(7))),
            (SamplingParameters(topP: 0.02, seed: 3), head(reaching: 0.02)),
            (SamplingParameters(topP: 0.9, seed: 4), head(reaching: 0.9)),
            (SamplingParameters(topP: 0.999_9, seed: 5), head(reaching: 0.999_9)),
            (SamplingParameters(minP: 0.5, seed: 6), Set(ranked.filter { probabilities[$0] >= 0.5 * maxP })),
        ]
        for (parameters, expected) in cases {
            let seen = Set(drawCounts(parameters, logits, draws: 400).keys)
            #expect(seen.isSubset(of: expected), "\(parameters)")
            if expected.count <= 10 { #expect(seen == expected, "\(parameters)") }
        }
    }

    @Test func paddingRowsBeyondTheVocabularyAreNeverChosen() {
        let logits: [Float] = [0, 1, 2, 1, 0, 50, 60]
        var greedy = TokenSampler(parameters: SamplingParameters(temperature: 0, logprobs: 1), vocabSize: 5)
        let chosen = sample(&greedy, logits)
        #expect(chosen.token == 2)
        #expect(abs(Double(chosen.logprob!) - directLogSoftmax(Array(logits.prefix(5)))[2]) < 1e-6)
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 2, seed: 3), vocabSize: 5)
        for _ in 0..<500 { #expect(sample(&sampler, logits).token < 5) }
    }

    @Test func maskedLogitsAreNeverChosen() {
        let logits: [Float] = [-.infinity, 0.5, -.infinity, 0.25, -.infinity]
        let counts = drawCounts(SamplingParameters(temperature: 3, seed: 8), logits, draws: 2000)
        #expect(Set(counts.keys) == [1, 3])
        let only: [Float] = [-.infinity, -.infinity, 4, -.infinity]
        #expect(drawCounts(SamplingParameters(topP: 0.5, minP: 0.1, seed: 8), only, draws: 50) == [2: 50])
    }
}
