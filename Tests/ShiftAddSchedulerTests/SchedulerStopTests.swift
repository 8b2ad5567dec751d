import Foundation
import ShiftAddScheduler
import Testing

@Suite struct SchedulerStopTests {
    /// The first token at index ≥ `from` that does not occur earlier in `tokens`.
    private func firstNewToken(_ tokens: [Int], from: Int) -> Int? {
        (from..<tokens.count).first { !tokens[..<$0].contains(tokens[$0]) }
    }

    @Test func maxTokensEndsWithLengthAndASummary() throws {
        let events = EventLog()
        let s = try TinySchedulerModel.scheduler(observer: events.observer)
        defer { s.shutdown() }
        let log = try s.run(GenerationRequest(prompt: .tokens(randomTokens(30, seed: 1)), sampling: seededSampling(1), maxTokens: 17,
                                              ignoreEOS: true))
        let summary = try #require(log.summary)
        #expect(log.malformed.isEmpty)
        #expect(summary.reason == .length)
        #expect(summary.error == nil)
        #expect(summary.promptTokens == 30)
        #expect(summary.completionTokens == 17)
        #expect(log.tokens.count == 17)
        let ttft = try #require(summary.timeToFirstTokenSeconds)
        #expect(summary.queueSeconds <= ttft && ttft <= summary.totalSeconds)
        // The observer saw the request's lifecycle (complete once the engine thread has ended).
        s.shutdown()
        let all = events.all
        #expect(all.count { if case .admitted = $0 { true } else { false } } == 1)
        #expect(all.count { if case .firstToken = $0 { true } else { false } } == 1)
        #expect(all.count { if case .interToken = $0 { true } else { false } } == 16)
        #expect(all.count { if case .finished = $0 { true } else { false } } == 1)
        #expect(events.stepTokenCounts.reduce(0, +) == 30 + 16)
    }

    @Test func stopTokenIdsEndAtTheirFirstOccurrence() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let request = GenerationRequest(prompt: .tokens(randomTokens(20, seed: 2)), sampling: seededSampling(2), maxTokens: 40,
                                        ignoreEOS: true)
        let reference = try s.run(request)
        let k = try #require(firstNewToken(reference.tokens, from: 3))
        var stopping = request
        stopping.stopTokenIds = [reference.tokens[k]]
        let stopped = try s.run(stopping)
        #expect(stopped.reason == .stop)
        #expect(stopped.tokens == Array(reference.tokens[...k]))
        #expect(stopped.text == s.tokenizer.decode(Array(reference.tokens[..<k]), skipSpecial: true))
    }

    /// End-of-generation tokens stop a request unless it ignores them. The test makes a token the
    /// model is known to produce the EOS token, so the stop is certain to be reached.
    @Test func endOfGenerationTokensStopUnlessIgnored() throws {
        let request = GenerationRequest(prompt: .tokens(randomTokens(10, seed: 9)), sampling: seededSampling(9), maxTokens: 40,
                                        ignoreEOS: true)
        let reference = try runAlone([request])[0]
        let k = try #require(firstNewToken(reference.tokens, from: 3))
        let (model, tokenizer) = try TinySchedulerModel.make(eos: reference.tokens[k])
        #expect(tokenizer.endOfGenerationIds == [reference.tokens[k]])
        let s = try Scheduler(model: model, tokenizer: tokenizer)
        defer { s.shutdown() }
        let ignoring = try s.run(request)
        #expect(ignoring.reason == .length)
        #expect(ignoring.tokens == reference.tokens)
        var stopping = request
        stopping.ignoreEOS = false
        let stopped = try s.run(stopping)
        #expect(stopped.reason == .stop)
        #expect(stopped.tokens == Array(reference.tokens[...k]))
        #expect(stopped.summary?.completionTokens == k + 1)
        #expect(stopped.text == tokenizer.decode(Array(reference.tokens[..<k]), skipSpecial: true))
    }

    @Test func anExpiredDeadlineEndsWithAnError() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let log = try s.run(GenerationRequest(prompt: .tokens([5, 6, 7]), maxTokens: 10,
                                              deadline: .now - .seconds(1)))
        #expect(log.reason == .error)
        #expect(log.summary?.error == "deadline exceeded")
        #expect(log.tokens.isEmpty)
        #expect(log.malformed.isEmpty)
    }

    /// The handler of the first token outlasts the deadline, so the request ends with an error at
    /// the next step, long before its 200 tokens.
    @Test func aDeadlinePassingMidGenerationEndsWithAnError() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let deadline = ContinuousClock.now + .seconds(1)
        let recorder = Recorder { event, log in
            if case .delta = event, log.tokens.count == 1 {
                Thread.sleep(until: Date(timeIntervalSinceNow: 1.2))
            }
        }
        let (_, r) = try s.start(GenerationRequest(prompt: .tokens([5, 6, 7]), sampling: seededSampling(1), maxTokens: 200,
                                                   ignoreEOS: true, deadline: deadline), recorder: recorder)
        let log = r.wait()
        #expect(ContinuousClock.now >= deadline)
        #expect(log.reason == .error)
        #expect(log.summary?.error == "deadline exceeded")
        #expect(log.tokens.count < 200)
        #expect(log.summary?.completionTokens == log.tokens.count)
    }

    @Test(arguments: [0, 5])
    func logprobsComeWithEveryToken(alternatives: Int) throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let log = try s.run(GenerationRequest(prompt: .tokens(randomTokens(12, seed: 4)),
                                              sampling: seededSampling(4, logprobs: alternatives), maxTokens: 10, ignoreEOS: true))
        #expect(log.logprobs.count == log.tokens.count)
        for (token, entry) in zip(log.tokens, log.logprobs) {
            #expect(entry.token == token)
            #expect(entry.logprob <= 0)
            #expect(entry.bytes == s.tokenizer.tokenBytes(token, renderSpecial: true))
            #expect(entry.text == String(decoding: entry.bytes, as: UTF8.self))
            #expect(entry.top.count == alternatives)
            #expect(zip(entry.top, entry.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
            for alternative in entry.top {
                #expect(alternative.bytes == s.tokenizer.tokenBytes(alternative.token, renderSpecial: true))
                #expect(alternative.logprob <= entry.top[0].logprob)
            }
        }
        let plain = try s.run(GenerationRequest(prompt: .tokens(randomTokens(12, seed: 4)), sampling: seededSampling(4), maxTokens: 10,
                                                ignoreEOS: true))
        #expect(plain.logprobs.isEmpty)
        #expect(plain.tokens == log.tokens)
    }
}
