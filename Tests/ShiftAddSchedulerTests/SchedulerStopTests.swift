import Foundation
import ShiftAddScheduler
import Testing

@Suite struct SchedulerStopTests {
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

    /// The scripted answer "hello world": its first "o" (token 111) is at index 4.
    private static let answer = Array("hello world".utf8).map(Int.init)

    @Test func stopTokenIdsEndAtTheirFirstOccurrence() throws {
        let (model, tokenizer) = try TinySchedulerModel.scripted(answer: Self.answer, promptLength: 20)
        let s = try Scheduler(model: model, tokenizer: tokenizer)
        defer { s.shutdown() }
        var request = GenerationRequest(prompt: .tokens(randomTokens(20, seed: 2)), sampling: seededSampling(2), maxTokens: 11,
                                        ignoreEOS: true)
        #expect(try s.run(request).text == "hello world")
        request.stopTokenIds = [111]
        let stopped = try s.run(request)
        #expect(stopped.reason == .stop)
        #expect(stopped.tokens == Array(Self.answer[...4]))
        #expect(stopped.text == "hell")
    }

    /// End-of-generation tokens stop a request unless it ignores them.
    @Test func endOfGenerationTokensStopUnlessIgnored() throws {
        let request = GenerationRequest(prompt: .tokens(randomTokens(10, seed: 9)), sampling: seededSampling(9), maxTokens: 11,
                                        ignoreEOS: true)
        let (model, tokenizer) = try TinySchedulerModel.scripted(answer: Self.answer, promptLength: 10, eos: 111)
        #expect(tokenizer.endOfGenerationIds == [111])
        let s = try Scheduler(model: model, tokenizer: tokenizer)
        defer { s.shutdown() }
        let ignoring = try s.run(request)
        #expect(ignoring.reason == .length)
        #expect(ignoring.tokens == Self.answer)
        var stopping = request
        stopping.ignoreEOS = false
        let stopped = try s.run(stopping)
        #expect(stopped.reason == .stop)
        #expect(stopped.tokens == Array(Self.answer[...4]))
        #expect(stopped.summary?.completionTokens == 5)
        #expect(stopped.text == "hell")
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

    /// The handler of the first token waits out a short deadline, so the request ends with an error
    /// at the next step instead of making its 200 tokens.
    @Test func aDeadlinePassingMidGenerationEndsWithAnError() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let deadline = ContinuousClock.now + .milliseconds(50)
        let recorder = Recorder { event, log in
            if case .delta = event, log.tokens.count == 1 {
                let left = deadline - .now
                if left > .zero {
                    let c = left.components
                    Thread.sleep(forTimeInterval: Double(c.seconds) + Double(c.attoseconds) * 1e-18 + 0.001)
                }
            }
        }
        let (_, r) = try s.start(GenerationRequest(prompt: .tokens([5, 6, 7]), sampling: seededSampling(1), maxTokens: 200,
                                                   ignoreEOS: true, deadline: deadline), recorder: recorder)
        let log = r.wait()
        #expect(ContinuousClock.now >= deadline)
        #expect(log.reason == .error)
        #expect(log.summary?.error == "deadline exceeded")
        // None when the machine was too slow to make the first token in time, else just that one.
        #expect(log.tokens.count <= 1)
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
