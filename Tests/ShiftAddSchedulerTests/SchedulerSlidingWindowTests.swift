@testable import ShiftAddScheduler
import ShiftAddTestSupport
import Testing

/// A model with a sliding-window layer (`ScriptedModel` with a window of 20 positions) on blocks of
/// 8: its windowed layer's storage is window slots, and its next token depends on the last 20
/// tokens as that layer reads them, so a slot freed or reused too early changes the output. A
/// query's window spans at most ⌈19/8⌉ + 1 = 4 blocks.
@Suite struct SchedulerSlidingWindowTests {
    static let window = 20
    static let blockSize = 8
    /// Bytes of one block of the whole-context layer, and of one window slot.
    static let blockBytes = 2 * blockSize * 2

    static func next(_ history: [Int]) -> Int {
        var h = UInt64(history.count)
        for t in history.suffix(window) { h = (h &* 1_000_003) ^ UInt64(bitPattern: Int64(t)) }
        return Int(h % 256)
    }

    /// The tokens `next` continues `prompt` with.
    static func expected(_ prompt: [Int], count: Int) -> [Int] {
        var history = prompt
        for _ in 0..<count { history.append(next(history)) }
        return Array(history[prompt.count...])
    }

    static func scheduler(_ configure: (inout SchedulerConfiguration) -> Void = { _ in },
                          observer: (@Sendable (SchedulerEvent) -> Void)? = nil) throws -> (Scheduler, ScriptedModel) {
        let model = ScriptedModel(vocabularySize: 260, contextLength: 256, window: window, next: Self.next)
        var c = SchedulerConfiguration()
        c.blockSize = blockSize
        configure(&c)
        return (try Scheduler(model: model, tokenizer: try TinySchedulerModel.byteLevelTokenizer(), configuration: c, observer: observer), model)
    }

    static func request(_ prompt: [Int], maxTokens: Int) -> GenerationRequest {
        GenerationRequest(prompt: .tokens(prompt), sampling: .init(temperature: 0), maxTokens: maxTokens, ignoreEOS: true)
    }

    /// 240 positions take 30 blocks but never more than 4 window slots, and all come back.
    @Test func aLongSequenceHoldsOnlyItsWindowsSlots() throws {
        let (s, model) = try Self.scheduler { $0.prefixCaching = false }
        defer { s.shutdown() }
        let before = s.stats()
        #expect(before.kvWindowSlotsTotal > 0 && before.kvWindowSlotsFree == before.kvWindowSlotsTotal)
        let prompt = randomTokens(5, seed: 60)
        let log = try s.run(Self.request(prompt, maxTokens: 235))
        #expect(log.tokens == Self.expected(prompt, count: 235))
        #expect(model.peakWindowSlots == 4)
        let idle = s.waitForStats { $0.running == 0 }
        #expect(idle.kvBlocksFree == idle.kvBlocksTotal)
        #expect(idle.kvWindowSlotsTotal > 0 && idle.kvWindowSlotsFree == idle.kvWindowSlotsTotal && idle.kvWindowSlotsUsed == 0)
    }

    /// The same without a window: no slots at all, blocks as before.
    @Test func withoutAWindowThereAreNoSlots() throws {
        let model = ScriptedModel(vocabularySize: 260, contextLength: 256, next: Self.next)
        var c = SchedulerConfiguration()
        c.blockSize = Self.blockSize
        c.maxRunning = 2
        let s = try Scheduler(model: model, tokenizer: try TinySchedulerModel.byteLevelTokenizer(), configuration: c)
        defer { s.shutdown() }
        #expect(s.stats().kvBlocksTotal == 2 * 32)
        #expect(s.kvCacheBytes == 2 * 32 * Self.blockBytes)
        let prompt = randomTokens(5, seed: 60)
        // Without a window the script still reads only the last 20 tokens: the same output.
        #expect(try s.run(Self.request(prompt, maxTokens: 100)).tokens == Self.expected(prompt, count: 100))
        #expect(model.peakWindowSlots == 0)
        #expect(s.stats().kvWindowSlotsTotal == 0)
    }

    /// With 4 slots (one window), a 100-token prompt is prefilled 4 blocks at a time, each step's
    /// blocks taking the slots of those the window has left. Afterwards the prefix cache still holds
    /// the slots of the last window: the whole history resumes from them (112 cached positions), but
    /// the prompt alone, whose window's slots were reused on the way, is computed again.
    @Test func thePrefixCacheResumesOnlyWhereTheWindowIsIntact() throws {
        let (s, model) = try Self.scheduler {
            $0.maxRunning = 1
            $0.kvCacheBytes = (32 + 4) * Self.blockBytes
        }
        defer { s.shutdown() }
        // One context: 32 blocks and 4 slots.
        #expect(s.stats().kvBlocksTotal == 32)
        let prompt = randomTokens(100, seed: 61)
        let first = try s.run(Self.request(prompt, maxTokens: 20))
        #expect(first.tokens == Self.expected(prompt, count: 20))
        #expect(model.peakWindowSlots == 4)

        let history = prompt + first.tokens
        let resumed = try s.run(Self.request(history, maxTokens: 10))
        #expect(resumed.summary?.cachedPromptTokens == 112)
        #expect(resumed.tokens == Self.expected(history, count: 10))

        let again = try s.run(Self.request(prompt, maxTokens: 20))
        #expect(again.summary?.cachedPromptTokens == 0)
        #expect(again.tokens == first.tokens)
    }

    /// Window slots, not blocks, run out: three sequences need 4 slots each out of 6. The newest
    /// are preempted, and every output is what the script gives.
    @Test func runningOutOfSlotsPreemptsAndRecomputes() throws {
        let events = EventLog()
        let (s, _) = try Self.scheduler({
            $0.maxRunning = 3
            $0.kvCacheBytes = (32 + 6) * Self.blockBytes
        }, observer: events.observer)
        defer { s.shutdown() }
        #expect(s.stats().kvBlocksTotal == 32)
        #expect(s.kvCacheBytes == (32 + 6) * Self.blockBytes)
        let prompts = (0..<3).map { randomTokens(30, seed: UInt64(62 + $0)) }
        let gate = try Gate(s)
        let recorders = try prompts.map { try s.start(Self.request($0, maxTokens: 40)).1 }
        gate.open()
        let logs = recorders.map { $0.wait() }
        #expect(events.preemptions > 0)
        for (log, prompt) in zip(logs, prompts) {
            #expect(log.tokens == Self.expected(prompt, count: 40))
        }
        let end = s.waitForStats { $0.running == 0 }
        #expect(end.kvBlocksUsed == 0)
    }

    /// The budget gives the running sequences' windows their slots first, then blocks; beyond
    /// `maxRunning` contexts it buys whole contexts of both.
    @Test func theBudgetDividesBetweenBlocksAndSlots() {
        let shape = KVPoolShape(contextBlocks: 32, blockSize: 8, window: 20, blockBytes: 10, slotBytes: 50)
        func split(_ bytes: Int) -> [Int] {
            let (blocks, slots) = shape.split(bytes: bytes, maxRunning: 4)
            return [blocks, slots]
        }
        #expect(shape.slotsPerContext == 4)
        #expect(shape.contextBytes == 520)
        #expect(split(520) == [32, 4])
        // Below 4 contexts: 13 slots (16 would leave less than a context's blocks), the rest blocks.
        #expect(split(1000) == [35, 13])
        #expect(split(2080) == [128, 16])
        // 10 whole contexts; the remainder's 70 bytes buy one more slot.
        #expect(split(5200 + 70) == [322, 41])
        // A window longer than the context needs no more than a slot per block.
        #expect(KVPoolShape(contextBlocks: 4, blockSize: 8, window: 100, blockBytes: 10, slotBytes: 50).slotsPerContext == 4)
        let plain = KVPoolShape(contextBlocks: 32, blockSize: 8, window: nil, blockBytes: 10, slotBytes: 0)
        #expect(plain.slotsPerContext == 0)
        #expect(plain.split(bytes: 1000, maxRunning: 4).blocks == 100)
    }
}
