import Foundation
import ShiftAddEngine
import ShiftAddTokenizer

/// Continuous batching of generation requests over one model and one paged KV cache.
///
/// `submit` validates and queues on the caller's thread; a dedicated engine thread (not the Swift
/// cooperative pool) runs the steps and calls each request's `events` handler, in order. All
/// methods are thread-safe. The scheduler becomes the model's only user: don't run the model
/// elsewhere while the scheduler lives.
public final class Scheduler: Sendable {
    public let tokenizer: Tokenizer
    /// Positions per sequence, prompt and output together.
    public let contextLength: Int
    /// Bytes of the KV cache pool (blocks and window slots).
    public let kvCacheBytes: Int
    /// The configuration in effect (`maxRunning` capped at `maxBatchTokens`).
    public let configuration: SchedulerConfiguration

    private let vocabularySize: Int
    private let mailbox: Locked<Mailbox>
    private let observer: (@Sendable (SchedulerEvent) -> Void)?
    /// Marks the engine thread (in its thread dictionary), so `shutdown` knows not to wait for itself.
    private let engineMarker: String

    /// Throws `SchedulerError` for a configuration the model cannot run (see `SchedulerConfiguration`).
    public init(model: any BatchedModel, tokenizer: Tokenizer, configuration: SchedulerConfiguration = .init(),
                observer: (@Sendable (SchedulerEvent) -> Void)? = nil) throws {
        var c = configuration
        for (name, value) in [("maxBatchTokens", c.maxBatchTokens), ("maxRunning", c.maxRunning),
                              ("maxQueued", c.maxQueued), ("blockSize", c.blockSize), ("contextLength", c.contextLength ?? 1),
                              ("prefillTokensWhileDecoding", c.prefillTokensWhileDecoding)]
        where value <= 0 {
            throw SchedulerError("\(name) must be positive, got \(value)")
        }
        guard c.maxBatchTokens <= model.maxBatchTokens else {
            throw SchedulerError("maxBatchTokens \(c.maxBatchTokens) exceeds the model's batch limit of \(model.maxBatchTokens)")
        }
        guard tokenizer.vocabularySize <= model.vocabularySize else {
            throw SchedulerError("the tokenizer has \(tokenizer.vocabularySize) tokens, the model's vocabulary \(model.vocabularySize)")
        }
        // Every running sequence decodes one token per step.
        c.maxRunning = min(c.maxRunning, c.maxBatchTokens)
        let context = min(c.contextLength ?? model.contextLength, model.contextLength)
        let contextBlocks = (context + c.blockSize - 1) / c.blockSize
        let shape = KVPoolShape(contextBlocks: contextBlocks, blockSize: c.blockSize, window: model.attentionWindow,
                                blockBytes: model.cacheBytesPerBlock(blockSize: c.blockSize),
                                slotBytes: model.cacheBytesPerWindowSlot(blockSize: c.blockSize))
        let budget: Int
        if let bytes = c.kvCacheBytes {
            guard bytes >= shape.contextBytes else {
                let slots = shape.slotsPerContext == 0 ? "" : " and \(shape.slotsPerContext) window slots of \(shape.slotBytes) bytes"
                throw SchedulerError("kvCacheBytes \(bytes) holds \(bytes / shape.blockBytes) blocks of \(shape.blockBytes) bytes; "
                    + "one full context of \(context) tokens needs \(contextBlocks)\(slots) (\(shape.contextBytes) bytes)")
            }
            budget = bytes
        } else {
            budget = Self.defaultCacheBytes(contextBytes: shape.contextBytes, maxRunning: c.maxRunning, physicalMemory: MemoryLimit.current)
        }
        let (blockCount, windowSlots) = shape.split(bytes: budget, maxRunning: c.maxRunning)

        self.tokenizer = tokenizer
        contextLength = context
        kvCacheBytes = blockCount * shape.blockBytes + windowSlots * shape.slotBytes
        self.configuration = c
        vocabularySize = model.vocabularySize
        self.observer = observer
        let mailbox = Locked(Mailbox(snapshot: SchedulerStats(
            queued: 0, running: 0, kvBlocksTotal: blockCount, kvBlocksUsed: 0, kvBlocksCached: 0, kvBlocksFree: blockCount,
            kvWindowSlotsTotal: windowSlots, kvWindowSlotsUsed: 0, kvWindowSlotsFree: windowSlots,
            preemptions: 0, rejections: 0, steps: 0)))
        self.mailbox = mailbox
        let blocks = BlockManager(cache: model.makeCache(blocks: blockCount, windowSlots: windowSlots, blockSize: c.blockSize), prefixCaching: c.prefixCaching)
        let engine = Engine(model: model, tokenizer: tokenizer, blocks: blocks,
                            limits: .init(maxBatchTokens: c.maxBatchTokens,
                                          prefillTokensWhileDecoding: c.prefillTokensWhileDecoding, maxRunning: c.maxRunning, contextLength: context),
                            observer: observer, mailbox: mailbox)
        let marker = "\(ObjectIdentifier(mailbox).hashValue)"
        engineMarker = marker
        let thread = Thread {
            Thread.current.threadDictionary[Self.engineKey] = marker
            engine.run()
        }
        thread.name = "shiftadd-engine"
        thread.start()
    }

    deinit { shutdown() }

    private static let engineKey = "ShiftAddScheduler.engine"

    /// The cache budget used when `kvCacheBytes` is not configured: `maxRunning` full contexts,
    /// but no more than a quarter of physical memory or `defaultMemoryCap`, and never less than one
    /// full context. The cap keeps a small model's footprint small; set the budget to use more.
    public static func defaultCacheBytes(contextBytes: Int, maxRunning: Int, physicalMemory: Int) -> Int {
        max(contextBytes, min(maxRunning * contextBytes, min(physicalMemory / 4, defaultMemoryCap)))
    }

    /// Upper bound of the default KV cache budget: 1 GiB.
    public static let defaultMemoryCap = 1 << 30

    /// Validates and queues `request`; `events` is then called on the engine thread, in order,
    /// ending with exactly one `.finished`. Text prompts are tokenized here, with special-token
    /// texts parsed as those tokens. Rejections throw at once and queue nothing.
    public func submit(_ request: GenerationRequest,
                       events: @escaping @Sendable (GenerationEvent) -> Void) throws(AdmissionError) -> GenerationID {
        try submit(request, choices: 1) { _, event in events(event) }[0]
    }

    /// Queues `choices` generations of one request (the queue limit is checked once, for all). Choice i
    /// samples with seed `s &+ i`, where s is the request's seed (or one drawn here), so choice i
    /// equals the request alone with that seed. Choices after the first wait until the first has
    /// computed the prompt, then read its full blocks from the prefix cache. Only the first gets
    /// `promptLogprobs`. `events` receives each choice's events with its index.
    public func submit(_ request: GenerationRequest, choices: Int,
                       events: @escaping @Sendable (Int, GenerationEvent) -> Void) throws(AdmissionError) -> [GenerationID] {
        do throws(AdmissionError) {
            guard choices >= 1 else { throw .invalid("choices must be at least 1, got \(choices)") }
            let prompt = try validate(request)
            let seed = request.sampling.seed ?? UInt64.random(in: .min ... .max)
            let limit = configuration.maxQueued
            return try mailbox.update { (m: inout Mailbox) throws(AdmissionError) -> [GenerationID] in
                guard !m.shuttingDown else { throw .shuttingDown }
                let queued = m.engineQueued + m.incoming.count
                guard queued < limit else { throw .overloaded(queued: queued, limit: limit) }
                let now = ContinuousClock.now
                var ids: [GenerationID] = []
                for i in 0..<choices {
                    let id = GenerationID(rawValue: m.nextID)
                    m.nextID += 1
                    var choice = request
                    if i > 0 { choice.promptLogprobs = nil }
                    m.incoming.append(Submission(id: id, prompt: prompt, request: choice, seed: seed &+ UInt64(i),
                                                 leader: ids.first, submitted: now, events: { events(i, $0) }))
                    ids.append(id)
                }
                return ids
            }
        } catch {
            mailbox.withLock { $0.rejections += 1 }
            observer?(.rejected(error))
            throw error
        }
    }

    /// Ends a request from any thread: it leaves the batch at the next step, its blocks are freed and
    /// it gets `.finished` with reason `.cancelled`. Unknown or finished ids are ignored.
    public func cancel(_ id: GenerationID) {
        mailbox.update { _ = $0.cancellations.insert(id) }
    }

    public func stats() -> SchedulerStats {
        mailbox.withLock { m in
            let s = m.snapshot
            return SchedulerStats(queued: m.engineQueued + m.incoming.count, running: s.running, kvBlocksTotal: s.kvBlocksTotal,
                                  kvBlocksUsed: s.kvBlocksUsed, kvBlocksCached: s.kvBlocksCached, kvBlocksFree: s.kvBlocksFree,
                                  kvWindowSlotsTotal: s.kvWindowSlotsTotal, kvWindowSlotsUsed: s.kvWindowSlotsUsed,
                                  kvWindowSlotsFree: s.kvWindowSlotsFree, preemptions: s.preemptions, rejections: m.rejections, steps: s.steps)
        }
    }

    /// Rejects new requests, cancels every queued and running one (each gets `.finished(.cancelled)`)
    /// and waits for the engine thread to end. From an event handler (on the engine thread) it
    /// returns at once and the thread ends after the current step.
    public func shutdown() {
        mailbox.update { $0.shuttingDown = true }
        guard Thread.current.threadDictionary[Self.engineKey] as? String != engineMarker else { return }
        mailbox.wait(until: { $0.stopped }) { _ in }
    }

    /// Tokenizes the prompt and checks the request against the vocabulary and the context.
    private func validate(_ r: GenerationRequest) throws(AdmissionError) -> [Int] {
        let prompt: [Int]
        switch r.prompt {
        case let .text(text): prompt = tokenizer.encode(text, addSpecial: r.addSpecialTokens, parseSpecial: true)
        case let .tokens(tokens): prompt = tokens
        }
        guard !prompt.isEmpty else { throw .invalid("the prompt is empty") }
        let vocabulary = 0..<vocabularySize
        if let bad = prompt.first(where: { !vocabulary.contains($0) }) {
            throw .invalid("prompt token id \(bad) is outside the vocabulary of \(vocabularySize) tokens")
        }
        if let bad = r.sampling.logitBias.keys.sorted().first(where: { !vocabulary.contains($0) }) {
            throw .invalid("logit bias token id \(bad) is outside the vocabulary of \(vocabularySize) tokens")
        }
        if let bad = r.stopTokenIds.first(where: { !vocabulary.contains($0) }) {
            throw .invalid("stop token id \(bad) is outside the vocabulary of \(vocabularySize) tokens")
        }
        if r.stop.contains("") { throw .invalid("stop strings must not be empty") }
        try Self.validate(r.sampling)
        if let n = r.promptLogprobs, !(0...20).contains(n) { throw .invalid("promptLogprobs must be in 0...20, got \(n)") }
        if let maxTokens = r.maxTokens {
            guard maxTokens >= 0 else { throw .invalid("maxTokens must be at least 0, got \(maxTokens)") }
            guard prompt.count + maxTokens <= contextLength else {
                throw .promptTooLong(promptTokens: prompt.count, maxTokens: maxTokens, context: contextLength)
            }
        } else if prompt.count >= contextLength {
            // Without maxTokens the prompt must still leave room for one token.
            throw .promptTooLong(promptTokens: prompt.count, maxTokens: 1, context: contextLength)
        }
        return prompt
    }

    private static func validate(_ s: SamplingParameters) throws(AdmissionError) {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws(AdmissionError) {
            if !ok { throw .invalid(message()) }
        }
        try check(s.temperature.isFinite && s.temperature >= 0, "temperature must be a number ≥ 0, got \(s.temperature)")
        try check(s.topK >= 0, "topK must be ≥ 0, got \(s.topK)")
        try check(s.topP > 0 && s.topP <= 1, "topP must be in (0, 1], got \(s.topP)")
        try check(s.minP >= 0 && s.minP <= 1, "minP must be in [0, 1], got \(s.minP)")
        try check(s.repetitionPenalty.isFinite && s.repetitionPenalty > 0,
                  "repetitionPenalty must be > 0, got \(s.repetitionPenalty)")
        try check(s.presencePenalty.isFinite, "presencePenalty must be finite")
        try check(s.frequencyPenalty.isFinite, "frequencyPenalty must be finite")
        if let n = s.logprobs { try check((0...20).contains(n), "logprobs must be in 0...20, got \(n)") }
        try check(s.logitBias.values.allSatisfy(\.isFinite), "logit biases must be finite")
    }
}
