import Foundation
import ShiftAddEngine
import ShiftAddTokenizer

/// The continuous-batching loop: each step admits waiting requests, plans one batched forward pass
/// (a decode token for every decoding sequence, then prefill chunks round-robin under the token
/// budget), runs it, samples, streams and retires finished sequences.
///
/// `@unchecked Sendable` because it is confined to the engine thread: `Scheduler.init` builds it
/// and hands it to the thread it starts, and nothing else touches it afterwards. Callers reach it
/// only through `mailbox`.
final class Engine: @unchecked Sendable {
    struct Limits {
        let maxBatchTokens: Int
        let prefillTokensWhileDecoding: Int
        let maxRunning: Int
        let contextLength: Int
    }

    private let model: any BatchedModel
    private let tokenizer: Tokenizer
    private let blocks: BlockManager
    private let limits: Limits
    private let observer: (@Sendable (SchedulerEvent) -> Void)?
    private let mailbox: Locked<Mailbox>
    private let clock = ContinuousClock()

    /// FCFS; preempted sequences re-enter at the front.
    private var waiting: [GenerationSequence] = []
    /// In arrival order (ascending id): the last is the newest, the first to be preempted.
    private var running: [GenerationSequence] = []
    /// Id of the sequence the last step's prefill started with; the next step starts after it.
    private var prefillCursor: UInt64 = 0
    private var preemptions = 0
    private var steps = 0
    private var pacer: PrefillPacer

    init(model: any BatchedModel, tokenizer: Tokenizer, blocks: BlockManager, limits: Limits,
         observer: (@Sendable (SchedulerEvent) -> Void)?, mailbox: Locked<Mailbox>) {
        self.model = model
        self.tokenizer = tokenizer
        self.blocks = blocks
        self.limits = limits
        pacer = PrefillPacer(maxTokens: limits.prefillTokensWhileDecoding)
        self.observer = observer
        self.mailbox = mailbox
    }

    private var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }

    /// The engine thread's body: take the mail, step, sleep while idle, until shutdown.
    func run() {
        var progressed = true
        while true {
            let busy = hasWork && progressed
            // A step that could not run anything (nothing admissible) retries after a short wait.
            let mail = mailbox.wait(until: { busy || $0.hasMail }, timeout: hasWork ? .milliseconds(10) : nil) { m in
                defer {
                    m.incoming = []
                    m.cancellations = []
                }
                // Counted as queued until the step publishes the exact number.
                m.engineQueued += m.incoming.count
                return (incoming: m.incoming, cancellations: m.cancellations, shutdown: m.shuttingDown)
            }
            let now = clock.now
            for s in mail.incoming {
                let seq = GenerationSequence(s, tokenizer: tokenizer, vocabularySize: model.vocabularySize,
                                             contextLength: limits.contextLength)
                // A request's choices arrive together, the first one first.
                seq.leader = s.leader.flatMap { id in waiting.last { $0.id == id } }
                waiting.append(seq)
            }
            if mail.shutdown {
                for seq in waiting + running { finish(seq, .cancelled, now: now) }
                publish()
                mailbox.update { $0.stopped = true }
                return
            }
            for id in mail.cancellations {
                if let seq = waiting.first(where: { $0.id == id }) ?? running.first(where: { $0.id == id }) {
                    finish(seq, .cancelled, now: now)
                }
            }
            progressed = step()
        }
    }

    /// One engine step; false when there was nothing to compute.
    private func step() -> Bool {
        let started = clock.now
        for seq in waiting + running where seq.deadline.map({ $0 <= started }) ?? false {
            finish(seq, .error, message: "deadline exceeded", now: started)
        }
        admit(now: started)
        let plan = schedule()
        // Admission and planning changed the queue and the blocks: visible before the forward pass.
        publish()
        guard !plan.isEmpty else { return false }
        let decodes = plan.count { $0.seq.isDecoding }
        let promptTokens = plan.reduce(0) { $0 + ($1.seq.isDecoding ? 0 : $1.count) }
        let entries = plan.map { seq, n in
            ForwardEntry(tokens: seq.tokens(seq.computed..<(seq.computed + n)), blocks: seq.blocks, start: seq.computed,
                         logits: seq.promptLogprobs != nil ? .all : seq.computed + n == seq.count ? .last : .none)
        }
        let forwardStarted = clock.now
        var logits = model.forward(entries, cache: blocks.cache)
        let computedAt = clock.now
        let forwardSeconds = (computedAt - forwardStarted).seconds
        if promptTokens == 0 {
            pacer.decoded(seconds: forwardSeconds)
        } else if decodes > 0 {
            pacer.mixed(seconds: forwardSeconds, promptTokens: promptTokens)
        }
        let vocab = model.vocabularySize
        var row = 0
        for (seq, n) in plan {
            let first = seq.computed
            let rows = seq.promptLogprobs != nil ? n : first + n == seq.count ? 1 : 0
            seq.computed += n
            offerFullBlocks(of: seq)
            slideWindow(of: seq)
            if seq.promptLogprobs != nil { scorePrompt(seq, positions: first..<seq.computed, logits: logits, firstRow: row) }
            if seq.computed >= seq.prompt.count { seq.promptDone = true }
            row += rows
            guard seq.computed == seq.count else { continue }
            // maxTokens 0: the prompt was all that was asked for.
            guard seq.count < seq.limit else {
                finish(seq, .length, now: computedAt)
                continue
            }
            let sampled = logits.withUnsafeMutableBufferPointer {
                let rowLogits = UnsafeMutableBufferPointer(rebasing: $0[((row - 1) * vocab)..<(row * vocab)])
                seq.constraint?.mask(rowLogits, remaining: seq.limit - seq.count)
                return seq.sampler.sample(UnsafeBufferPointer(rowLogits), promptTokens: seq.prompt, generated: seq.generated)
            }
            deliver(sampled, to: seq, now: computedAt)
        }
        steps += 1
        publish()
        observer?(.step(tokens: entries.reduce(0) { $0 + $1.tokens.count }, sequences: entries.count,
                        seconds: (clock.now - started).seconds))
        return true
    }

    // MARK: Admission

    /// Moves waiting sequences into the batch in order while there is room: a free running slot, and
    /// blocks (and window slots) for all their known tokens beyond the prefix-cache hits, after what
    /// the running sequences still need for theirs. The head of the queue is never skipped.
    private func admit(now: ContinuousClock.Instant) {
        let bs = blocks.blockSize
        var obtainable = blocks.obtainableBlocks
            - running.reduce(0) { $0 + max(0, blocks.blocks(for: $1.count) - $1.blocks.count) }
        var obtainableSlots = blocks.obtainableWindowSlots
            - running.reduce(0) { $0 + windowSlotsOutstanding($1.count, heldBlocks: $1.blocks.count) }
        while running.count < limits.maxRunning, let seq = waiting.first {
            // Later choices of a request wait for the first to compute the prompt they share.
            if let leader = seq.leader {
                guard leader.promptDone else { break }
                seq.leader = nil
            }
            // At least the last known token is recomputed: its logits pick the next token. A prompt
            // whose log-probabilities are owed is computed in full.
            let hits = blocks.lookup(seq.allTokens, limit: seq.promptLogprobs != nil ? 0 : (seq.count - 1) / bs)
            let idleHits = hits.count { blocks.isIdleCached($0.block) }
            let need = blocks.blocks(for: seq.count) - hits.count
            let windowStart = blocks.windowStart(at: hits.count * bs)
            let slotNeed = windowSlotsOutstanding(seq.count, heldBlocks: hits.count)
                + hits[windowStart...].count { blocks.isIdleWindowSlot($0.block) }
            guard need + idleHits <= obtainable, slotNeed <= obtainableSlots else { break }
            obtainable -= need + idleHits
            obtainableSlots -= slotNeed
            waiting.removeFirst()
            blocks.retain(hits.map(\.block), windowFrom: windowStart)
            seq.blocks = hits.map(\.block)
            seq.computed = hits.count * bs
            seq.windowStart = windowStart
            seq.hashedBlocks = hits.count
            seq.chainHash = hits.last?.hash ?? BlockManager.root
            running.insert(seq, at: running.firstIndex { $0.id.rawValue > seq.id.rawValue } ?? running.count)
            if seq.admitted == nil {
                seq.admitted = now
                seq.cachedPromptTokens = seq.computed
                seq.events(.started(promptTokens: seq.prompt))
                observer?(.admitted(queueSeconds: (now - seq.submitted).seconds))
            }
        }
    }

    /// Window slots a sequence holding `heldBlocks` blocks still has to take for the window of its
    /// last known token (of `count`): one per block of that window beyond those it holds.
    private func windowSlotsOutstanding(_ count: Int, heldBlocks: Int) -> Int {
        guard blocks.window != nil else { return 0 }
        return max(0, blocks.blocks(for: count) - max(heldBlocks, blocks.windowStart(at: count - 1)))
    }

    // MARK: Batch planning

    /// The step's batch as (sequence, tokens) pairs: every decoding sequence's token, oldest first,
    /// then prefill chunks round-robin over the prefilling sequences with the remaining budget.
    private func schedule() -> [(seq: GenerationSequence, count: Int)] {
        var plan: [(seq: GenerationSequence, count: Int)] = []
        var budget = limits.maxBatchTokens
        func unplan(_ victim: GenerationSequence) {
            guard let i = plan.firstIndex(where: { $0.seq === victim }) else { return }
            budget += plan[i].count
            plan.remove(at: i)
        }
        for seq in running where seq.isDecoding {
            guard isRunning(seq) else { continue }
            if reserve(seq, positions: seq.count, preempting: unplan) == seq.count {
                plan.append((seq, 1))
                budget -= 1
            } else {
                // Nothing newer left to preempt: this sequence is the newest, so it yields.
                preempt(seq)
            }
        }
        let prefilling = running.filter { !$0.isDecoding }
        guard !prefilling.isEmpty else { return plan }
        if !plan.isEmpty { budget = min(budget, pacer.budget) }
        let start = prefilling.firstIndex { $0.id.rawValue > prefillCursor } ?? 0
        prefillCursor = prefilling[start].id.rawValue
        for k in prefilling.indices where budget > 0 {
            let seq = prefilling[(start + k) % prefilling.count]
            guard isRunning(seq) else { continue }
            let target = seq.computed + min(seq.pending, budget)
            let n = reserve(seq, positions: target, preempting: unplan) - seq.computed
            if n > 0 {
                plan.append((seq, n))
                budget -= n
            }
        }
        return plan
    }

    private func isRunning(_ seq: GenerationSequence) -> Bool { running.contains { $0 === seq } }

    /// Grows `seq`'s block table to cover `positions`, taking free blocks, then evicting cached ones,
    /// then preempting running sequences newer than `seq`, newest first. Returns the positions covered.
    private func reserve(_ seq: GenerationSequence, positions: Int, preempting unplan: (GenerationSequence) -> Void) -> Int {
        while seq.blocks.count * blocks.blockSize < positions {
            if let b = blocks.allocate() {
                seq.blocks.append(b)
                continue
            }
            guard let victim = running.last, victim.id.rawValue > seq.id.rawValue else { break }
            unplan(victim)
            preempt(victim)
        }
        return min(positions, seq.blocks.count * blocks.blockSize)
    }

    /// Frees a running sequence's blocks and queues it first in line; it recomputes its prompt and
    /// generated tokens when readmitted, with its sampler state intact.
    private func preempt(_ seq: GenerationSequence) {
        blocks.release(seq.blocks, windowFrom: seq.windowStart)
        seq.resetCache()
        running.removeAll { $0 === seq }
        waiting.insert(seq, at: 0)
        preemptions += 1
        observer?(.preempted)
    }

    /// Offers each newly completed full block to the prefix cache.
    private func offerFullBlocks(of seq: GenerationSequence) {
        guard blocks.prefixCaching else { return }
        let bs = blocks.blockSize
        while seq.caching, (seq.hashedBlocks + 1) * bs <= seq.computed {
            let i = seq.hashedBlocks
            switch blocks.register(seq.blocks[i], parent: seq.chainHash, tokens: seq.tokens((i * bs)..<((i + 1) * bs))[...]) {
            case let .cached(hash), let .duplicate(hash):
                seq.chainHash = hash
                seq.hashedBlocks += 1
            case .collision:
                seq.caching = false
            }
        }
    }

    /// Gives up the window references to blocks the sequence's next query no longer reads.
    private func slideWindow(of seq: GenerationSequence) {
        let start = blocks.windowStart(at: seq.computed)
        guard start > seq.windowStart else { return }
        blocks.leaveWindow(seq.blocks[seq.windowStart..<start])
        seq.windowStart = start
    }

    // MARK: Output

    /// Appends a sampled token, streams it and ends the sequence on a stop condition.
    private func deliver(_ sampled: SampledToken, to seq: GenerationSequence, now: ContinuousClock.Instant) {
        let token = sampled.token
        seq.append(token)
        seq.constraint?.advance(token)
        if let last = seq.lastToken {
            observer?(.interToken(seconds: (now - last).seconds))
        } else {
            seq.firstToken = now
            observer?(.firstToken(seconds: (now - seq.submitted).seconds))
        }
        seq.lastToken = now
        var reason: FinishReason?
        var text: String
        if seq.stopTokens.contains(token) {
            reason = .stop
            text = seq.text.finish()
        } else {
            let out = seq.text.append(token)
            text = out.text
            if out.stopped {
                reason = .stop
            } else if seq.constraint?.isComplete == true {
                reason = .stop
                text += seq.text.finish()
            } else if seq.count >= seq.limit {
                reason = .length
                text += seq.text.finish()
            }
        }
        let logprobs = seq.wantsLogprobs ? logprob(sampled) : []
        seq.events(.delta(text: text, tokens: [token], logprobs: logprobs))
        if let reason { finish(seq, reason, now: now) }
    }

    /// Log-probabilities of the prompt tokens that the logits rows of `positions` predict (rows in
    /// order from `firstRow`); once the whole prompt is scored they are sent.
    private func scorePrompt(_ seq: GenerationSequence, positions: Range<Int>, logits: [Float], firstRow: Int) {
        guard let alternatives = seq.promptLogprobs else { return }
        let vocab = model.vocabularySize
        if positions.lowerBound == 0 {
            seq.promptEntries = logprob(SampledToken(token: seq.prompt[0], logprob: .nan, top: []))
        }
        logits.withUnsafeBufferPointer { all in
            for (r, p) in positions.enumerated() where p + 1 < seq.prompt.count {
                let row = UnsafeBufferPointer(rebasing: all[((firstRow + r) * vocab)..<((firstRow + r + 1) * vocab)])
                seq.promptEntries += logprob(LogSoftmax.score(seq.prompt[p + 1], alternatives: alternatives, logits: row))
            }
        }
        guard positions.upperBound >= seq.prompt.count else { return }
        seq.promptLogprobs = nil
        seq.events(.promptLogprobs(seq.promptEntries))
        seq.promptEntries = []
    }

    private func logprob(_ sampled: SampledToken) -> [TokenLogprob] {
        guard let logprob = sampled.logprob else { return [] }
        let bytes = tokenizer.tokenBytes(sampled.token, renderSpecial: true)
        let top = sampled.top.map { alternative in
            let b = tokenizer.tokenBytes(alternative.token, renderSpecial: true)
            return TokenAlternative(token: alternative.token, text: String(decoding: b, as: UTF8.self), bytes: b,
                                    logprob: alternative.logprob)
        }
        return [TokenLogprob(token: sampled.token, text: String(decoding: bytes, as: UTF8.self), bytes: bytes,
                             logprob: logprob, top: top)]
    }

    /// Takes `seq` out of the engine, frees its blocks and sends `.finished`.
    private func finish(_ seq: GenerationSequence, _ reason: FinishReason, message: String? = nil, now: ContinuousClock.Instant) {
        seq.promptDone = true
        blocks.release(seq.blocks, windowFrom: seq.windowStart)
        seq.resetCache()
        running.removeAll { $0 === seq }
        waiting.removeAll { $0 === seq }
        let summary = GenerationSummary(
            reason: reason, error: message, promptTokens: seq.prompt.count, cachedPromptTokens: seq.cachedPromptTokens,
            completionTokens: seq.generated.count, queueSeconds: ((seq.admitted ?? now) - seq.submitted).seconds,
            timeToFirstTokenSeconds: seq.firstToken.map { ($0 - seq.submitted).seconds },
            totalSeconds: (now - seq.submitted).seconds)
        seq.events(.finished(summary))
        observer?(.finished(summary))
    }

    /// Makes the engine's counts visible to `Scheduler.stats()` and `submit`'s queue limit.
    private func publish() {
        let stats = SchedulerStats(
            queued: waiting.count, running: running.count, kvBlocksTotal: blocks.totalBlocks, kvBlocksUsed: blocks.usedBlocks,
            kvBlocksCached: blocks.cachedBlocks, kvBlocksFree: blocks.freeBlocks, kvWindowSlotsTotal: blocks.cache.windowSlotCount,
            kvWindowSlotsUsed: blocks.usedWindowSlots, kvWindowSlotsFree: blocks.cache.freeWindowSlots, preemptions: preemptions, rejections: 0,
            steps: steps)
        mailbox.withLock {
            $0.engineQueued = stats.queued
            $0.snapshot = stats
        }
    }
}
