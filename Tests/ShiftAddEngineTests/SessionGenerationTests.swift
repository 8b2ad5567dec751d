import ShiftAddEngine
import Testing

/// `DecodingSession.generate`, the decoding loop of `shiftadd generate`: it feeds back each drawn
/// token and stops where the scheduler stops a request.
@Suite struct SessionGenerationTests {
    /// A session over 8 tokens whose most likely next token is the last fed one plus 1 (mod 8), or
    /// with `fixed` logits every time; it records what it was fed.
    final class ScriptedSession: DecodingSession {
        let capacity: Int
        let fixed: [Float]?
        private(set) var fed: [[Int]] = []

        init(capacity: Int, fixed: [Float]? = nil) {
            self.capacity = capacity
            self.fixed = fixed
        }

        var count: Int { fed.reduce(0) { $0 + $1.count } }

        func append(_ tokens: [Int], allLogits: Bool) -> [Float] {
            precondition(!allLogits && count + tokens.count <= capacity)
            fed.append(tokens)
            if let fixed { return fixed }
            var logits = [Float](repeating: 0, count: 8)
            logits[(tokens.last! + 1) % 8] = 10
            return logits
        }
    }

    static func greedy() -> TokenSampler { TokenSampler(parameters: SamplingParameters(temperature: 0), vocabSize: 8) }

    @Test func aStopTokenEndsTheRunUnfedAndUnemitted() {
        let session = ScriptedSession(capacity: 32)
        var sampler = Self.greedy()
        var emitted: [Int] = []
        let generated = session.generate(prompt: [1], maxTokens: 10, sampler: &sampler, stopTokens: [4]) { emitted.append($0) }
        #expect(generated == [2, 3, 4])
        #expect(emitted == [2, 3])
        #expect(session.fed == [[1], [2], [3]])
    }

    @Test func maxTokensCountsGeneratedTokensAndTheLastIsNotFed() {
        let session = ScriptedSession(capacity: 32)
        var sampler = Self.greedy()
        #expect(session.generate(prompt: [1, 2], maxTokens: 3, sampler: &sampler, stopTokens: []) == [3, 4, 5])
        #expect(session.fed == [[1, 2], [3], [4]])
    }

    @Test func aFullSessionEndsTheRun() {
        // Prompt and generated tokens fill the capacity of 4, as a request fills the context.
        let session = ScriptedSession(capacity: 4)
        var sampler = Self.greedy()
        #expect(session.generate(prompt: [1, 2], maxTokens: 10, sampler: &sampler, stopTokens: []) == [3, 4])
        #expect(session.fed == [[1, 2], [3]])
    }

    @Test func penaltiesSeeTheTokensGeneratedSoFar() {
        // Token 3 leads token 5 by 1; a presence penalty of 2 moves the second draw to 5, after
        // which both carry it and 3 leads again.
        var logits = [Float](repeating: 0, count: 8)
        logits[3] = 10
        logits[5] = 9
        let session = ScriptedSession(capacity: 32, fixed: logits)
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0, presencePenalty: 2), vocabSize: 8)
        #expect(session.generate(prompt: [1], maxTokens: 4, sampler: &sampler, stopTokens: []) == [3, 5, 3, 3])
        // A repetition penalty of 2 also covers the prompt: 3 in the prompt drops to 5, below 5's 9.
        let again = ScriptedSession(capacity: 32, fixed: logits)
        var repeating = TokenSampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 2), vocabSize: 8)
        #expect(again.generate(prompt: [3], maxTokens: 3, sampler: &repeating, stopTokens: []) == [5, 3, 3])
    }
}
