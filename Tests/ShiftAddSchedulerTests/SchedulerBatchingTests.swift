import Dispatch
import ShiftAddScheduler
import Synchronization
import Testing

@Suite struct SchedulerBatchingTests {
    /// 32 seeded requests submitted at once from many threads, batched with chunked prefill and
    /// decodes in the same steps, each give exactly what the same request gives alone.
    @Test func concurrentSeededRequestsMatchTheirSoloRuns() throws {
        let requests = (0..<32).map { i in
            GenerationRequest(prompt: .tokens(randomTokens(5 + (i * 7) % 56, seed: UInt64(100 + i))),
                              sampling: seededSampling(UInt64(i), logprobs: i % 4 == 0 ? 3 : nil), maxTokens: 24)
        }
        let events = EventLog()
        let s = try TinySchedulerModel.scheduler({ $0.maxBatchTokens = 128 }, observer: events.observer)
        defer { s.shutdown() }
        let gate = try Gate(s)
        let recorders = Mutex<[Int: Recorder]>([:])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: requests.count) { i in
            do {
                let (_, r) = try s.start(requests[i])
                recorders.withLock { $0[i] = r }
            } catch {
                failures.withLock { $0.append("\(i): \(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        gate.open()
        let batched = try (0..<requests.count).map { i in try #require(recorders.withLock { $0[i] }).wait() }
        let alone = try runAlone(requests)
        for i in requests.indices {
            #expect(batched[i].malformed.isEmpty)
            #expect(batched[i].prompt == alone[i].prompt)
            #expect(batched[i].tokens == alone[i].tokens, "request \(i)")
            #expect(batched[i].text == alone[i].text, "request \(i)")
            #expect(batched[i].reason == alone[i].reason, "request \(i)")
            #expect(batched[i].logprobs.map(\.logprob) == alone[i].logprobs.map(\.logprob), "request \(i)")
            #expect(batched[i].logprobs.map { $0.top.map(\.token) } == alone[i].logprobs.map { $0.top.map(\.token) })
        }
        #expect(batched.contains { $0.tokens.count == 24 }, "all requests stopped early")
        // They really ran together: steps held many sequences and mixed prefill with decoding.
        let widest = events.all.compactMap { if case let .step(_, sequences, _) = $0 { sequences } else { nil } }.max() ?? 0
        #expect(widest >= 20)
        #expect(events.stepTokenCounts.allSatisfy { $0 <= 128 })
    }

    /// A 200-token prompt with a 32-token budget is computed in chunks over at least 7 steps, while
    /// a stream already decoding keeps receiving a token every step; both outputs equal solo runs.
    @Test func longPromptsArePrefilledInChunksWithoutStallingDecoding() throws {
        let events = EventLog()
        let s = try TinySchedulerModel.scheduler({ $0.maxBatchTokens = 32 }, observer: events.observer)
        defer { s.shutdown() }
        let timeline = Timeline()
        let streaming = GenerationRequest(prompt: .tokens(randomTokens(4, seed: 1)), sampling: seededSampling(1),
                                          maxTokens: 60, ignoreEOS: true)
        let long = GenerationRequest(prompt: .tokens(randomTokens(200, seed: 2)), sampling: seededSampling(2), maxTokens: 5,
                                     ignoreEOS: true)
        // The stream is decoding (held in its first token's handler) when the long prompt arrives.
        let holding = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0)
        let (_, a) = try s.start(streaming, recorder: timeline.recorder("stream") { event, log in
            if case .delta = event, log.tokens.count == 1 {
                holding.signal()
                released.wait()
            }
        })
        holding.wait()
        let (_, b) = try s.start(long, recorder: timeline.recorder("long"))
        released.signal()
        let streamLog = a.wait(), longLog = b.wait()

        let order = timeline.all
        let started = try #require(order.firstIndex { $0 == ("long", .started) })
        let firstLong = try #require(order.firstIndex { $0 == ("long", .delta) })
        let streamDeltasDuringPrefill = order[started..<firstLong].count { $0 == ("stream", .delta) }
        #expect(streamDeltasDuringPrefill >= 6, "the stream got \(streamDeltasDuringPrefill) tokens during a 7-chunk prefill")
        #expect(events.stepTokenCounts.allSatisfy { $0 <= 32 })
        let alone = try runAlone([streaming, long])
        #expect(streamLog.tokens == alone[0].tokens)
        #expect(longLog.tokens == alone[1].tokens)
        #expect(longLog.tokens.count == 5)
    }

    /// Requests join the batch in submission order when slots free up.
    @Test func admissionIsFirstComeFirstServed() throws {
        let s = try TinySchedulerModel.scheduler { $0.maxRunning = 2 }
        defer { s.shutdown() }
        let timeline = Timeline()
        let gate = try Gate(s)
        let labels = (0..<10).map { "r\($0)" }
        var recorders: [Recorder] = []
        for (i, label) in labels.enumerated() {
            let request = GenerationRequest(prompt: .tokens(randomTokens(10 + 3 * i, seed: UInt64(i))), sampling: seededSampling(UInt64(i)),
                                            maxTokens: 8 - i % 3, ignoreEOS: true)
            recorders.append(try s.start(request, recorder: timeline.recorder(label)).1)
        }
        gate.open()
        let logs = recorders.map { $0.wait() }
        #expect(timeline.labels(of: .started) == labels)
        for (i, log) in logs.enumerated() {
            #expect(log.reason == .length)
            #expect(log.tokens.count == 8 - i % 3)
        }
    }

    /// Two long prompts arriving together prefill in alternating chunks: neither waits for the
    /// other to finish, so their first tokens come within two steps of each other (strictly one
    /// after the other would be 7 steps apart).
    @Test func prefillChunksRotateBetweenPrompts() throws {
        let s = try TinySchedulerModel.scheduler { $0.maxBatchTokens = 32 }
        defer { s.shutdown() }
        let gate = try Gate(s)
        let requests = (0..<3).map { i in
            GenerationRequest(prompt: .tokens(randomTokens(200, seed: UInt64(10 + i))), sampling: seededSampling(UInt64(i)),
                              maxTokens: 3, ignoreEOS: true)
        }
        let recorders = try requests.map { try s.start($0, recorder: Recorder(stats: s)).1 }
        gate.open()
        let logs = recorders.map { $0.wait() }
        let firstSteps = try logs.map { try #require($0.firstTokenAtStep) }
        #expect(firstSteps.max()! - firstSteps.min()! <= 2, "first tokens at steps \(firstSteps)")
        let alone = try runAlone(requests)
        #expect(logs.map(\.tokens) == alone.map(\.tokens))
    }

    /// Text prompts are tokenized at submit; the started event carries the tokens.
    @Test func textPromptsAreTokenizedOnSubmit() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let log = try s.run(GenerationRequest(prompt: .text("the theme in the thin"), sampling: .init(temperature: 0), maxTokens: 4,
                                              ignoreEOS: true))
        #expect(log.prompt == s.tokenizer.encode("the theme in the thin", addSpecial: true, parseSpecial: true))
        #expect(log.summary?.promptTokens == log.prompt?.count)
        #expect(log.tokens.count == 4)
        #expect(log.summary?.completionTokens == 4)
    }
}
