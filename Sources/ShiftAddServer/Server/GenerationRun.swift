import ShiftAddScheduler
import Synchronization

/// Turns one generation's events into its HTTP answer: a JSON response when it finishes, or an
/// event stream of chunks with keep-alive comments while nothing else is sent.
///
/// Events can arrive on the engine thread before `begin` runs on the loop thread (right after
/// `submit` returns); they wait in `pending` until then so the stream's head goes out first.
final class GenerationRun: Sendable {
    struct Settings: Sendable {
        var builder: ResponseBuilder
        var stream: Bool
        var includeUsage: Bool
        var logprobs: Bool
        /// The prompt text to put before the completion (`echo`), nil without echo.
        var echo: String?
        var keepAliveSeconds: Double
    }

    private let settings: Settings
    private let exchange: Exchange
    /// Called once with the summary, just before the answer ends (removes the registry entry).
    private let onFinish: @Sendable (GenerationSummary) -> Void
    private let state = Mutex(State())

    private struct State {
        var begun = false
        var pending: [GenerationEvent] = []
        var finished = false
        var text = ""
        var logprobs: [TokenLogprob] = []
        /// Unicode scalars of the choice's text sent so far, for completion logprob offsets.
        var textOffset = 0
        var sentSinceTick = false
        var timer: KeepAliveTimer?
    }

    init(settings: Settings, exchange: Exchange, onFinish: @escaping @Sendable (GenerationSummary) -> Void) {
        self.settings = settings
        self.exchange = exchange
        self.onFinish = onFinish
    }

    /// The scheduler's callback.
    func handle(_ event: GenerationEvent) {
        let summary: GenerationSummary? = state.withLock { s in
            guard s.begun else {
                s.pending.append(event)
                return nil
            }
            return process(event, &s)
        }
        if let summary { complete(summary) }
    }

    /// Called after a successful submit: opens the stream and replays what already arrived.
    func begin() {
        let summary: GenerationSummary? = state.withLock { s in
            s.begun = true
            if settings.stream { open(&s) }
            var summary: GenerationSummary?
            for event in s.pending { summary = process(event, &s) ?? summary }
            s.pending = []
            return summary
        }
        if let summary { complete(summary) }
    }

    /// Ends the exchange after `onFinish` has run, so a client holding the whole response also
    /// finds the generation's log line written and its registry entry gone.
    private func complete(_ summary: GenerationSummary) {
        onFinish(summary)
        state.withLock { s in
            if settings.stream { finishStream(summary, &s) } else { respond(summary, s) }
        }
    }

    private func open(_ s: inout State) {
        exchange.startEventStream()
        let b = settings.builder
        switch b.kind {
        case .chat:
            send(ServerSentEvents.event(b.chunk(text: "", role: true, includeUsage: settings.includeUsage)), &s)
        case .text:
            if let echo = settings.echo {
                send(ServerSentEvents.event(b.chunk(text: echo, includeUsage: settings.includeUsage)), &s)
                s.textOffset = echo.unicodeScalars.count
            }
        }
        s.timer = KeepAliveTimer(interval: settings.keepAliveSeconds) { [weak self] in self?.tick() }
    }

    private func tick() {
        state.withLock { s in
            guard !s.finished else { return }
            if !s.sentSinceTick { exchange.send(ServerSentEvents.keepAlive) }
            s.sentSinceTick = false
        }
    }

    private func send(_ bytes: [UInt8], _ s: inout State) {
        exchange.send(bytes)
        s.sentSinceTick = true
    }

    /// Returns the summary when the event finished the generation; `complete` then ends the exchange.
    private func process(_ event: GenerationEvent, _ s: inout State) -> GenerationSummary? {
        guard !s.finished else { return nil }
        switch event {
        case .started:
            return nil
        case let .delta(text, _, logprobs):
            if settings.stream {
                guard !text.isEmpty || (settings.logprobs && !logprobs.isEmpty) else { return nil }
                let chunk = settings.builder.chunk(text: text, logprobs: settings.logprobs ? logprobs : nil,
                                                   logprobsOffset: s.textOffset, includeUsage: settings.includeUsage)
                send(ServerSentEvents.event(chunk), &s)
                s.textOffset += logprobs.reduce(0) { $0 + $1.text.unicodeScalars.count }
            } else {
                s.text += text
                if settings.logprobs { s.logprobs += logprobs }
            }
            return nil
        case .finished(let summary):
            s.finished = true
            s.timer?.cancel()
            s.timer = nil
            exchange.addLogFields([
                ("finish_reason", summary.reason.rawValue), ("prompt_tokens", String(summary.promptTokens)),
                ("cached_tokens", String(summary.cachedPromptTokens)),
                ("completion_tokens", String(summary.completionTokens)),
            ])
            return summary
        }
    }

    private func usage(_ summary: GenerationSummary) -> Usage {
        Usage(promptTokens: summary.promptTokens, completionTokens: summary.completionTokens,
              cachedTokens: summary.cachedPromptTokens)
    }

    private func respond(_ summary: GenerationSummary, _ s: State) {
        if let error = Self.error(summary) { return exchange.fail(error) }
        let echo = settings.echo ?? ""
        let body = settings.builder.response(
            text: echo + s.text, finishReason: summary.reason.rawValue, logprobs: settings.logprobs ? s.logprobs : nil,
            logprobsOffset: echo.unicodeScalars.count, usage: usage(summary))
        exchange.respond(json: body)
    }

    private func finishStream(_ summary: GenerationSummary, _ s: inout State) {
        let b = settings.builder
        if let error = Self.error(summary) {
            send(ServerSentEvents.event(error.json), &s)
        } else {
            let last = b.chunk(text: b.kind == .chat ? nil : "", finishReason: summary.reason.rawValue,
                               includeUsage: settings.includeUsage)
            send(ServerSentEvents.event(last), &s)
            if settings.includeUsage { send(ServerSentEvents.event(b.usageChunk(usage(summary))), &s) }
        }
        send(ServerSentEvents.done, &s)
        exchange.finishStream()
    }

    /// The error a generation ended with: the scheduler's message, or shutdown for a cancellation
    /// the client did not cause (a client that left gets nothing).
    static func error(_ summary: GenerationSummary) -> APIError? {
        switch summary.reason {
        case .stop, .length: nil
        case .cancelled: .unavailable("the generation was cancelled: the server is shutting down", code: "shutting_down")
        case .error: .server(summary.error ?? "the generation failed")
        }
    }
}
