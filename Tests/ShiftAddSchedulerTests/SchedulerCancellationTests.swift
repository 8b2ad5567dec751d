import Dispatch
import ShiftAddScheduler
import Synchronization
import Testing

@Suite struct SchedulerCancellationTests {
    /// 200 sequences decode together; once all have their first token, every other one is cancelled.
    /// With 64-position blocks each sequence (17 prompt + 40 generated tokens) holds exactly one
    /// block, so the step after the cancellation must show used blocks == running sequences ≤ 100.
    @Test func cancellingHalfOfTwoHundredFreesTheirBlocksWithinAStep() throws {
        let blockBytes = try TinySchedulerModel.blockBytes(blockSize: 64)
        let events = EventLog()
        let s = try TinySchedulerModel.scheduler({
            $0.maxRunning = 200
            // All 200 prompts (3,400 tokens) are prefilled in the first step, so every sequence has
            // its first token before any decodes, whatever the prefill pacing measures.
            $0.maxBatchTokens = 4096
            $0.blockSize = 64
            $0.kvCacheBytes = 256 * blockBytes
        }, maxBatchTokens: 4096, observer: events.observer)
        events.attach(s)
        defer {
            events.detach()
            s.shutdown()
        }
        let requests = (0..<200).map { i in
            GenerationRequest(prompt: .tokens(randomTokens(17, seed: UInt64(1000 + i))), sampling: seededSampling(UInt64(i)),
                              maxTokens: 40, ignoreEOS: true)
        }
        // The cancellation is issued on the engine thread, from the event that completes the set
        // of first tokens, so it lands at a known step however the machine schedules this thread.
        let cancelled = Set(stride(from: 0, to: requests.count, by: 2))
        let ids = Mutex<[GenerationID]>([])
        let atCancel = Mutex(0)
        let decoding = Mutex(0)
        let gate = try Gate(s)
        let started = try requests.map { request in
            try s.start(request, recorder: Recorder(stats: s) { event, log in
                guard case .delta = event, log.tokens.count == 1 else { return }
                guard decoding.withLock({ $0 += 1; return $0 }) == requests.count else { return }
                atCancel.withLock { $0 = s.stats().steps }
                let all = ids.withLock { $0 }
                for i in cancelled.sorted() { s.cancel(all[i]) }
            })
        }
        ids.withLock { $0 = started.map(\.0) }
        gate.open()
        let logs = started.map { $0.1.wait() }
        let atCancelStep = atCancel.withLock { $0 }

        var lastCancelStep = 0
        for i in cancelled.sorted() {
            #expect(logs[i].reason == .cancelled, "request \(i)")
            #expect(logs[i].tokens.count < 40)
            #expect(logs[i].summary?.completionTokens == logs[i].tokens.count)
            let step = try #require(logs[i].finishedAtStep)
            #expect(step <= atCancelStep + 1, "cancelled after \(step - atCancelStep) steps")
            lastCancelStep = max(lastCancelStep, step)
        }
        let stepAfter = try #require(events.stepStats.first { $0.steps == lastCancelStep + 1 })
        #expect(stepAfter.running <= 100)
        #expect(stepAfter.kvBlocksUsed == stepAfter.running)
        #expect(events.stepStats.filter { $0.steps > atCancelStep }.allSatisfy { $0.kvBlocksUsed == $0.running })

        let survivors = (0..<requests.count).filter { !cancelled.contains($0) }
        let alone = try runAlone(survivors.map { requests[$0] })
        for (k, i) in survivors.enumerated() {
            #expect(logs[i].reason == .length)
            #expect(logs[i].tokens == alone[k].tokens, "request \(i)")
            #expect(logs[i].malformed.isEmpty)
        }
        let end = s.waitForStats { $0.running == 0 }
        #expect(end.kvBlocksUsed == 0)
        #expect(end.kvBlocksFree + end.kvBlocksCached == end.kvBlocksTotal)
    }

    @Test func aQueuedRequestCancelsWithoutStarting() throws {
        let s = try TinySchedulerModel.scheduler { $0.maxRunning = 1 }
        defer { s.shutdown() }
        let gate = try Gate(s)
        let (id, queued) = try s.start(GenerationRequest(prompt: .tokens([4, 5, 6]), maxTokens: 5))
        s.cancel(id)
        gate.open()
        let log = queued.wait()
        #expect(log.prompt == nil)
        #expect(log.tokens.isEmpty)
        #expect(log.reason == .cancelled)
        #expect(log.summary?.completionTokens == 0)
        #expect(log.summary?.timeToFirstTokenSeconds == nil)
        #expect(log.malformed.isEmpty)
        // Cancelling a finished or unknown id changes nothing.
        s.cancel(id)
        s.cancel(GenerationID(rawValue: 9_999))
        let after = try s.run(GenerationRequest(prompt: .tokens([4, 5, 6]), sampling: .init(temperature: 0), maxTokens: 5,
                                                ignoreEOS: true))
        #expect(after.reason == .length)
        #expect(s.waitForStats { $0.running == 0 }.queued == 0)
    }

    /// Shutdown from an event handler returns at once; every request still in flight then ends
    /// with `.cancelled`, and nothing more is accepted.
    @Test func shutdownCancelsEverythingInFlight() throws {
        let s = try TinySchedulerModel.scheduler()
        let gate = try Gate(s)
        let request = GenerationRequest(prompt: .tokens(randomTokens(12, seed: 3)), sampling: seededSampling(3), maxTokens: 200,
                                        ignoreEOS: true)
        let first = Recorder { [s] event, log in
            if case .delta = event, log.tokens.count == 3 { s.shutdown() }
        }
        var recorders = [try s.start(request, recorder: first).1]
        for _ in 0..<4 { recorders.append(try s.start(request).1) }
        gate.open()
        let logs = recorders.map { $0.wait() }
        s.shutdown()
        for log in logs {
            #expect(log.reason == .cancelled)
            #expect(log.tokens.count < 200)
            #expect(log.malformed.isEmpty)
        }
        #expect(throws: AdmissionError.shuttingDown) { try s.submit(request) { _ in } }
    }
}
