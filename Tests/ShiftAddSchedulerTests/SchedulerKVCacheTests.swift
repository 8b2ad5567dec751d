import ShiftAddScheduler
import Testing

@Suite struct SchedulerKVCacheTests {
    /// A second turn that repeats the first turn's prompt and reply reuses the first turn's full
    /// blocks: 100 prompt + 8 generated tokens leave 107 computed positions, 6 full blocks of 16.
    @Test func aSecondTurnReusesTheFirstTurnsBlocks() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let firstPrompt = randomTokens(100, seed: 21)
        let first = GenerationRequest(prompt: .tokens(firstPrompt), sampling: seededSampling(5), maxTokens: 8, ignoreEOS: true)
        let turn1 = try s.run(first)
        #expect(turn1.summary?.cachedPromptTokens == 0)
        let idle = s.waitForStats { $0.running == 0 }
        #expect(idle.kvBlocksCached == 6)
        #expect(idle.kvBlocksUsed == 0)

        let second = GenerationRequest(prompt: .tokens(firstPrompt + turn1.tokens + randomTokens(10, seed: 22)),
                                       sampling: seededSampling(6), maxTokens: 12, ignoreEOS: true)
        let turn2 = try s.run(second)
        #expect(turn2.summary?.cachedPromptTokens == 96)
        // The same prompt again: everything but the last token's block comes from the cache.
        let again = try s.run(first)
        #expect(again.summary?.cachedPromptTokens == 96)

        let alone = try [first, second].map { try runAlone([$0])[0] }
        #expect(turn1.tokens == alone[0].tokens)
        #expect(again.tokens == alone[0].tokens)
        #expect(turn2.tokens == alone[1].tokens)
        #expect(alone[1].summary?.cachedPromptTokens == 0)
    }

    /// Two running sequences with the same 64-token prefix share its blocks.
    @Test func concurrentSequencesShareCachedPrefixBlocks() throws {
        let s = try TinySchedulerModel.scheduler()
        defer { s.shutdown() }
        let prefix = randomTokens(64, seed: 30)
        _ = try s.run(GenerationRequest(prompt: .tokens(prefix + [7]), sampling: .init(temperature: 0), maxTokens: 1))
        let gate = try Gate(s)
        let requests = (0..<4).map { i in
            GenerationRequest(prompt: .tokens(prefix + randomTokens(5, seed: UInt64(31 + i))), sampling: seededSampling(UInt64(i)),
                              maxTokens: 4, ignoreEOS: true)
        }
        let recorders = try requests.map { try s.start($0).1 }
        gate.open()
        let logs = recorders.map { $0.wait() }
        #expect(logs.map { $0.summary?.cachedPromptTokens } == [64, 64, 64, 64])
        #expect(logs.map(\.tokens) == (try runAlone(requests)).map(\.tokens))
    }

    @Test func withoutPrefixCachingNothingIsReused() throws {
        let s = try TinySchedulerModel.scheduler { $0.prefixCaching = false }
        defer { s.shutdown() }
        let request = GenerationRequest(prompt: .tokens(randomTokens(100, seed: 21)), sampling: seededSampling(5), maxTokens: 8)
        let first = try s.run(request), second = try s.run(request)
        #expect(first.summary?.cachedPromptTokens == 0)
        #expect(second.summary?.cachedPromptTokens == 0)
        #expect(first.tokens == second.tokens)
        let idle = s.waitForStats { $0.running == 0 }
        #expect(idle.kvBlocksCached == 0)
        #expect(idle.kvBlocksFree == idle.kvBlocksTotal)
    }

    /// In a pool of one context (16 blocks), cached blocks give way to new requests, least recently
    /// released first; the most recent prefix survives whole.
    @Test func cachedBlocksAreEvictedWhenMemoryIsNeeded() throws {
        let blockBytes = try TinySchedulerModel.blockBytes()
        let s = try TinySchedulerModel.scheduler { $0.kvCacheBytes = 16 * blockBytes }
        defer { s.shutdown() }
        let requests = (0..<3).map { i in
            GenerationRequest(prompt: .tokens(randomTokens(100, seed: UInt64(40 + i))), sampling: seededSampling(UInt64(i)),
                              maxTokens: 20, ignoreEOS: true)
        }
        let first = try requests.map { try s.run($0) }
        #expect(first.allSatisfy { $0.reason == .length && $0.tokens.count == 20 })
        let idle = s.waitForStats { $0.running == 0 }
        // Each run leaves 7 full blocks (119 computed positions) cached and frees its partial one; the
        // third evicted 6 of the first's 7, so 1 + 7 + 7 are cached and 1 is free.
        #expect(idle.kvBlocksCached == 15)
        #expect(idle.kvBlocksFree == 1)
        let newest = try s.run(requests[2])
        #expect(newest.summary?.cachedPromptTokens == 96)
        #expect(newest.tokens == first[2].tokens)
        let oldest = try s.run(requests[0])
        #expect(oldest.summary?.cachedPromptTokens ?? 0 < 96)
        #expect(oldest.tokens == first[0].tokens)
    }

    /// Four sequences growing to 100 positions (7 blocks each) in a 16-block pool: the newest are
    /// preempted and recomputed later, and every output equals the same request run alone.
    @Test(arguments: [true, false])
    func exhaustingTheCachePreemptsAndRecomputes(prefixCaching: Bool) throws {
        let blockBytes = try TinySchedulerModel.blockBytes()
        let events = EventLog()
        let s = try TinySchedulerModel.scheduler({
            $0.kvCacheBytes = 16 * blockBytes
            $0.prefixCaching = prefixCaching
        }, observer: events.observer)
        defer { s.shutdown() }
        let requests = (0..<4).map { i in
            GenerationRequest(prompt: .tokens(randomTokens(40, seed: UInt64(50 + i))), sampling: seededSampling(UInt64(i), logprobs: 2),
                              maxTokens: 60, ignoreEOS: true)
        }
        let gate = try Gate(s)
        let recorders = try requests.map { try s.start($0).1 }
        gate.open()
        let logs = recorders.map { $0.wait() }
        #expect(events.preemptions > 0)
        let end = s.waitForStats { $0.running == 0 }
        #expect(end.preemptions == events.preemptions)
        #expect(end.kvBlocksUsed == 0)
        let alone = try runAlone(requests)
        for i in requests.indices {
            #expect(logs[i].malformed.isEmpty)
            #expect(logs[i].reason == .length)
            #expect(logs[i].tokens == alone[i].tokens, "request \(i)")
            #expect(logs[i].text == alone[i].text)
            #expect(logs[i].logprobs.map(\.logprob) == alone[i].logprobs.map(\.logprob))
        }
    }
}
