import Foundation
import Dispatch
import ShiftAddScheduler
import Testing

@Suite struct SchedulerAdmissionTests {
    @Test func emptyPromptsAndForeignTokenIdsAreInvalid() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        #expect(throws: AdmissionError.invalid("the prompt is empty")) {
            try s.submit(GenerationRequest(prompt: .tokens([]))) { _ in }
        }
        #expect(throws: AdmissionError.invalid("the prompt is empty")) {
            try s.submit(GenerationRequest(prompt: .text(""), addSpecialTokens: false)) { _ in }
        }
        #expect(throws: AdmissionError.invalid("prompt token id 260 is outside the vocabulary of 260 tokens")) {
            try s.submit(GenerationRequest(prompt: .tokens([5, 260]))) { _ in }
        }
        #expect(throws: AdmissionError.invalid("prompt token id -1 is outside the vocabulary of 260 tokens")) {
            try s.submit(GenerationRequest(prompt: .tokens([-1]))) { _ in }
        }
        #expect(throws: AdmissionError.invalid("stop token id 999 is outside the vocabulary of 260 tokens")) {
            try s.submit(GenerationRequest(prompt: .tokens([5]), stopTokenIds: [999])) { _ in }
        }
        #expect(s.stats().rejections == 5)
        #expect(s.stats().queued == 0)
    }

    @Test func invalidParametersAreRejected() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let bad: [(GenerationRequest, String)] = [
            (GenerationRequest(prompt: .tokens([1]), sampling: .init(temperature: -1)), "temperature must be a number ≥ 0, got -1.0"),
            (GenerationRequest(prompt: .tokens([1]), sampling: .init(topP: 0)), "topP must be in (0, 1], got 0.0"),
            (GenerationRequest(prompt: .tokens([1]), sampling: .init(logprobs: 21)), "logprobs must be in 0...20, got 21"),
            (GenerationRequest(prompt: .tokens([1]), maxTokens: -1), "maxTokens must be at least 0, got -1"),
            (GenerationRequest(prompt: .tokens([1]), sampling: .init(logitBias: [99999: 1])),
             "logit bias token id 99999 is outside the vocabulary of \(s.tokenizer.vocabularySize) tokens"),
            (GenerationRequest(prompt: .tokens([1]), stop: ["x", ""]), "stop strings must not be empty"),
        ]
        for (request, message) in bad {
            #expect(throws: AdmissionError.invalid(message)) { try s.submit(request) { _ in } }
        }
    }

    /// The check happens in submit, before anything is queued, with the numbers in the message.
    @Test func oversizePromptsAreRejectedBeforeQueuing() throws {
        let events = EventLog()
        let s = try TinySchedulerModel.scheduler(observer: events.observer)
        defer { s.shutdown() }
        let context = TinySchedulerModel.contextLength
        #expect(s.contextLength == context)
        do {
            _ = try s.submit(GenerationRequest(prompt: .tokens(randomTokens(250, seed: 1)), maxTokens: 10)) { _ in }
            Issue.record("accepted a prompt of 250 + 10 tokens in a context of \(context)")
        } catch {
            #expect(error == .promptTooLong(promptTokens: 250, maxTokens: 10, context: context))
            #expect(error.description == "the prompt has 250 tokens and 10 more were requested: 260 exceeds the context of 256 tokens")
        }
        // Without maxTokens the prompt must leave room for one token.
        #expect(throws: AdmissionError.promptTooLong(promptTokens: 256, maxTokens: 1, context: context)) {
            try s.submit(GenerationRequest(prompt: .tokens(randomTokens(256, seed: 2)))) { _ in }
        }
        #expect(s.stats().queued == 0)
        #expect(s.stats().rejections == 2)
        let rejected = events.all.count { if case .rejected(.promptTooLong) = $0 { true } else { false } }
        #expect(rejected == 2)

        // Exactly fitting prompts are accepted: 246 + 10, and 255 with one token left.
        let fits = try s.run(GenerationRequest(prompt: .tokens(randomTokens(246, seed: 3)), sampling: .init(temperature: 0),
                                               maxTokens: 10, ignoreEOS: true))
        #expect(fits.reason == .length)
        #expect(fits.tokens.count == 10)
        let last = try s.run(GenerationRequest(prompt: .tokens(randomTokens(255, seed: 4)), sampling: .init(temperature: 0),
                                               ignoreEOS: true))
        #expect(last.reason == .length)
        #expect(last.tokens.count == 1)
    }

    @Test func aConfiguredContextLimitAppliesToAdmission() throws {
        let s = try TinySchedulerModel.scheduler { $0.contextLength = 100 }
        defer { s.shutdown() }
        #expect(s.contextLength == 100)
        #expect(throws: AdmissionError.promptTooLong(promptTokens: 90, maxTokens: 20, context: 100)) {
            try s.submit(GenerationRequest(prompt: .tokens(randomTokens(90, seed: 1)), maxTokens: 20)) { _ in }
        }
        let log = try s.run(GenerationRequest(prompt: .tokens(randomTokens(90, seed: 1)), ignoreEOS: true))
        #expect(log.reason == .length)
        #expect(log.tokens.count == 10)
    }

    /// With the engine held inside an event handler, the queue fills and the next submit fails at
    /// once with the numbers; nothing is lost and the queued requests complete afterwards.
    @Test func aFullQueueRejectsImmediately() throws {
        let events = EventLog()
        let s = try TinySchedulerModel.scheduler({
            $0.maxRunning = 1
            $0.maxQueued = 2
        }, observer: events.observer)
        defer { s.shutdown() }
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let blocker = Recorder { event, _ in
            if case .delta = event {
                holding.signal()
                release.wait()
            }
        }
        let request = GenerationRequest(prompt: .tokens(randomTokens(8, seed: 1)), sampling: .init(temperature: 0),
                                        maxTokens: 3, ignoreEOS: true)
        let (_, first) = try s.start(request, recorder: blocker)
        holding.wait()
        let (_, second) = try s.start(request)
        let (_, third) = try s.start(request)
        #expect(s.stats().queued == 2)
        #expect(throws: AdmissionError.overloaded(queued: 2, limit: 2)) { try s.submit(request) { _ in } }
        #expect(s.stats().rejections == 1)
        (0..<3).forEach { _ in release.signal() }
        let logs = [first.wait(), second.wait(), third.wait()]
        for log in logs {
            #expect(log.reason == .length)
            #expect(log.tokens == logs[0].tokens)
            #expect(log.malformed.isEmpty)
        }
        #expect(events.all.contains { if case .rejected(.overloaded(2, 2)) = $0 { true } else { false } })
    }

    @Test func submitAfterShutdownIsRejected() throws {
        let s = try TinySchedulerModel.scheduler()
        s.shutdown()
        #expect(throws: AdmissionError.shuttingDown) { try s.submit(GenerationRequest(prompt: .tokens([1]))) { _ in } }
        s.shutdown()
    }

    @Test func configurationsTheModelCannotRunAreRefused() throws {
        let blockBytes = try TinySchedulerModel.blockBytes()
        let cases: [(SchedulerConfiguration, String)] = [
            (configuration { $0.maxBatchTokens = 1024 }, "maxBatchTokens 1024 exceeds the model's batch limit of 512"),
            (configuration { $0.maxQueued = 0 }, "maxQueued must be positive, got 0"),
            (configuration { $0.kvCacheBytes = 15 * blockBytes },
             "kvCacheBytes \(15 * blockBytes) holds 15 blocks of \(blockBytes) bytes; one full context of 256 tokens needs 16 (\(16 * blockBytes) bytes)"),
        ]
        for (c, message) in cases {
            let (model, tokenizer) = try TinySchedulerModel.make()
            #expect(throws: SchedulerError.self) { try Scheduler(model: model, tokenizer: tokenizer, configuration: c) }
            do {
                _ = try Scheduler(model: model, tokenizer: tokenizer, configuration: c)
            } catch let error as SchedulerError {
                #expect(error.message == message)
            }
        }
    }

    @Test func maxRunningIsCappedAtTheBatchBudget() throws {
        let s = try TinySchedulerModel.scheduler {
            $0.maxBatchTokens = 32
            $0.maxRunning = 100
        }
        defer { s.shutdown() }
        #expect(s.configuration.maxRunning == 32)
        #expect(s.configuration.maxBatchTokens == 32)
    }

    /// A container's memory limit (cgroup v2 "max" or bytes, v1 bytes) caps what counts as memory.
    @Test func cgroupLimitsCapTheMemoryTheDefaultsSee() {
        let physical = 24 << 30
        #expect(MemoryLimit.effective(physical: physical, cgroupLimits: [nil, nil]) == physical)
        #expect(MemoryLimit.effective(physical: physical, cgroupLimits: ["max\n", nil]) == physical)
        #expect(MemoryLimit.effective(physical: physical, cgroupLimits: ["2147483648\n", nil]) == 2 << 30)
        #expect(MemoryLimit.effective(physical: physical, cgroupLimits: [nil, "1073741824\n"]) == 1 << 30)
        #expect(MemoryLimit.effective(physical: physical, cgroupLimits: [nil, "9223372036854771712\n"]) == physical)
        #expect(MemoryLimit.effective(physical: physical, cgroupLimits: ["garbage", "0"]) == physical)
        #expect(MemoryLimit.current > 0)
        #expect(MemoryLimit.current <= Int(clamping: ProcessInfo.processInfo.physicalMemory))
    }

    /// Default pool: `maxRunning` full contexts, capped at a quarter of memory or 1 GiB, at least one context.
    @Test func theDefaultPoolFollowsTheDocumentedRule() throws {
        #expect(Scheduler.defaultCacheBytes(contextBytes: 16 << 14, maxRunning: 64, physicalMemory: 1 << 34) == 1024 << 14)
        #expect(Scheduler.defaultCacheBytes(contextBytes: 512 << 20, maxRunning: 64, physicalMemory: 1 << 33) == 1024 << 20)
        #expect(Scheduler.defaultCacheBytes(contextBytes: 256 << 20, maxRunning: 64, physicalMemory: 1 << 34) == 1024 << 20)
        #expect(Scheduler.defaultCacheBytes(contextBytes: 512 << 20, maxRunning: 64, physicalMemory: 1 << 30) == 512 << 20)
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let blockBytes = try TinySchedulerModel.blockBytes()
        #expect(s.stats().kvBlocksTotal == 64 * 16)
        #expect(s.stats().kvBlocksFree == 64 * 16)
        #expect(s.kvCacheBytes == 64 * 16 * blockBytes)
    }
}

func configuration(_ change: (inout SchedulerConfiguration) -> Void) -> SchedulerConfiguration {
    var c = SchedulerConfiguration()
    change(&c)
    return c
}
