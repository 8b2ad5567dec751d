import Foundation
import ShiftAddHTTP
import ShiftAddScheduler
import Synchronization

/// One completion or chat request from its arrival to the end of its answer, in three states:
///
/// - `preparing`: registered on the loop thread when the request arrives, so a client that leaves
///   before it is submitted is noticed; the body is decoded, rendered and tokenized on the
///   request's queue.
/// - `running`: its generations are submitted; their events become the answer (`GenerationAnswer`).
/// - `ended`: answered, refused, or the client left. Every way in goes through `end`, which takes
///   the request out of its table, so nothing is left behind and nothing happens twice.
///
/// The scheduler's callback runs on the engine thread and only enqueues the event: the answer's
/// JSON and event-stream chunks are written on the request's serial queue. The submission runs on
/// that queue too, so events that come while `submit` returns wait behind it and the stream's head
/// goes out first. A disconnect (loop thread) ends the request at once and cancels its generations.
final class GenerationLifecycle: Sendable {
    /// The requests not yet ended, by HTTP request: where a disconnect finds its request, and the
    /// count a draining server waits on.
    final class Table: Sendable {
        private let entries = Mutex<[HTTPRequestID: GenerationLifecycle]>([:])

        var count: Int { entries.withLock { $0.count } }

        subscript(id: HTTPRequestID) -> GenerationLifecycle? { entries.withLock { $0[id] } }

        fileprivate func add(_ lifecycle: GenerationLifecycle) { entries.withLock { $0[lifecycle.id] = lifecycle } }

        fileprivate func remove(_ id: HTTPRequestID) { entries.withLock { _ = $0.removeValue(forKey: id) } }
    }

    enum Phase: Sendable {
        case preparing, running, ended
    }

    let id: HTTPRequestID
    let exchange: Exchange
    private let table: Table
    private let logger: Logger
    private let metrics: Metrics
    private let queue: DispatchQueue
    private let state = Mutex(State())

    private struct State {
        var phase = Phase.preparing
        /// Set with `running`: where the generations are cancelled when the client leaves.
        var scheduler: Scheduler?
        var generations: [GenerationID] = []
        var answer: GenerationAnswer?
        var keepAlive: KeepAliveTimer?
    }

    /// Registers the request in `table`; call on the loop thread as it arrives. Its work runs on a
    /// serial queue over `work`.
    init(id: HTTPRequestID, exchange: Exchange, table: Table, logger: Logger, metrics: Metrics, work: DispatchQueue) {
        self.id = id
        self.exchange = exchange
        self.table = table
        self.logger = logger
        self.metrics = metrics
        queue = DispatchQueue(label: "shiftadd.generation", target: work)
        table.add(self)
    }

    var phase: Phase { state.withLock { $0.phase } }

    /// Runs `body` (decoding up to `submit` or `fail`) on the request's queue, unless the client
    /// has left by then.
    func prepare(_ body: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            guard phase == .preparing else { return }
            body()
        }
    }

    /// preparing → ended, answering `error`.
    func fail(_ error: APIError) {
        guard state.withLock({ end(&$0) }) else { return }
        exchange.fail(error)
    }

    /// preparing → running: submits the generations and opens the answer (a stream's head goes
    /// out here). Nil when the client left meanwhile; generations submitted by then are cancelled.
    func submit(_ request: GenerationRequest, to scheduler: Scheduler,
                answer settings: GenerationAnswer.Settings) throws(AdmissionError) -> [GenerationID]? {
        guard phase == .preparing else { return nil }
        let generations = try scheduler.submit(request, choices: settings.choices) { [self] index, event in
            queue.async { self.receive(index, event) }
        }
        let running = state.withLock { s in
            guard s.phase == .preparing else { return false }
            s.phase = .running
            s.scheduler = scheduler
            s.generations = generations
            var answer = GenerationAnswer(settings: settings, exchange: exchange)
            if settings.stream {
                answer.open()
                s.keepAlive = KeepAliveTimer(interval: settings.keepAliveSeconds) { [weak self] in
                    guard let self else { return }
                    queue.async { self.keepAlive() }
                }
            }
            s.answer = answer
            return true
        }
        guard running else {
            generations.forEach(scheduler.cancel)
            return nil
        }
        return generations
    }

    /// The client closed the connection or reset the stream: ends the request and cancels its
    /// generations. Cancelled first, so whoever sees the disconnect counted or logged knows the
    /// cancel is posted; the generation's own metrics follow when the engine has acted on it.
    func clientLeft() {
        let ended = state.withLock { s -> (scheduler: Scheduler?, generations: [GenerationID])? in
            end(&s) ? (s.scheduler, s.generations) : nil
        }
        guard let ended else { return }
        let generations = ended.generations
        for generation in generations { ended.scheduler?.cancel(generation) }
        metrics.recordDisconnect()
        logger.info("client went away; generation cancelled", [
            ("request_id", exchange.requestID),
            ("generation", generations.isEmpty ? "-" : generations.map(\.description).joined(separator: ",")),
        ])
        exchange.clientWentAway()
    }

    /// One of the scheduler's events, on the request's queue. The last `.finished` ends the request
    /// before the answer's last bytes go out, so a client holding the whole answer also finds the
    /// request gone from the table and its log lines written.
    private func receive(_ index: Int, _ event: GenerationEvent) {
        state.withLock { s in
            guard s.phase == .running, let summaries = s.answer!.process(index, event) else { return }
            _ = end(&s)
            if logger.isEnabled(.debug) {
                for summary in summaries {
                    logger.debug("generation finished", [("request_id", exchange.requestID)] + Self.timingFields(summary))
                }
            }
            s.answer!.finish(summaries)
        }
    }

    private func keepAlive() {
        state.withLock { s in
            guard s.phase == .running else { return }
            s.answer!.keepAlive()
        }
    }

    /// The one way into `ended`: false when already there.
    private func end(_ s: inout State) -> Bool {
        guard s.phase != .ended else { return false }
        s.phase = .ended
        s.keepAlive?.cancel()
        s.keepAlive = nil
        table.remove(id)
        return true
    }

    /// Where a finished generation's time went.
    private static func timingFields(_ summary: GenerationSummary) -> [(String, String)] {
        func ms(_ seconds: Double) -> String { String(format: "%.1f", seconds * 1000) }
        return [("finish_reason", summary.reason.rawValue), ("prompt_tokens", String(summary.promptTokens)),
                ("cached_tokens", String(summary.cachedPromptTokens)),
                ("completion_tokens", String(summary.completionTokens)), ("queue_ms", ms(summary.queueSeconds)),
                ("ttft_ms", summary.timeToFirstTokenSeconds.map(ms) ?? "-"), ("total_ms", ms(summary.totalSeconds))]
    }
}
