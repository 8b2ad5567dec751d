import ShiftAddScheduler
import Synchronization

/// Turns the events of one request's generations (its `n` choices) into its HTTP answer: a JSON
/// response when every choice has finished, or an event stream of chunks, choices interleaved by
/// `index`, with keep-alive comments while nothing else is sent.
///
/// Events can arrive on the engine thread before `begin` runs on the loop thread (right after
/// `submit` returns); they wait in `pending` until then so the stream's head goes out first.
final class GenerationRun: Sendable {
    struct Settings: Sendable {
        var builder: ResponseBuilder
        var choices: Int
        var stream: Bool
        var includeUsage: Bool
        var logprobs: Bool
        /// The prompt text to put before the completion (`echo`), nil without echo.
        var echo: String?
        /// With `echo` and `logprobs`: the prompt's own log-probabilities lead each choice's.
        var promptLogprobs: Bool
        /// Chat with tools that may be called: a choice's output is held back while it is (or may
        /// be) a call, and answered as `tool_calls` when it parses as one.
        var tools: ToolUse?
        var keepAliveSeconds: Double
    }

    private let settings: Settings
    private let exchange: Exchange
    /// Called once with every choice's summary, just before the answer ends (removes the registry entry).
    private let onFinish: @Sendable ([GenerationSummary]) -> Void
    private let state: Mutex<State>

    private struct Choice {
        var text = ""
        var logprobs: [TokenLogprob] = []
        /// Unicode scalars of the choice's text sent so far, for completion logprob offsets.
        var textOffset = 0
        var summary: GenerationSummary?
        /// With tools: nil until the output shows whether it is a call (true) or text (false).
        var holding: Bool?
        var held = ""
        var heldLogprobs: [TokenLogprob] = []
        var call: ToolCall?
    }

    private struct State {
        var begun = false
        var pending: [(Int, GenerationEvent)] = []
        var finished = false
        var choices: [Choice]
        /// The prompt's entries (`.promptLogprobs` of the first choice), shared by every choice.
        var promptEntries: [TokenLogprob] = []
        var sentSinceTick = false
        var timer: KeepAliveTimer?
    }

    init(settings: Settings, exchange: Exchange, onFinish: @escaping @Sendable ([GenerationSummary]) -> Void) {
        self.settings = settings
        self.exchange = exchange
        self.onFinish = onFinish
        state = Mutex(State(choices: Array(repeating: Choice(), count: settings.choices)))
    }

    /// The scheduler's callback.
    func handle(_ index: Int, _ event: GenerationEvent) {
        let summaries: [GenerationSummary]? = state.withLock { s in
            guard s.begun else {
                s.pending.append((index, event))
                return nil
            }
            return process(index, event, &s)
        }
        if let summaries { complete(summaries) }
    }

    /// Called after a successful submit: opens the stream and replays what already arrived.
    func begin() {
        let summaries: [GenerationSummary]? = state.withLock { s in
            s.begun = true
            if settings.stream { open(&s) }
            var summaries: [GenerationSummary]?
            for (index, event) in s.pending { summaries = process(index, event, &s) ?? summaries }
            s.pending = []
            return summaries
        }
        if let summaries { complete(summaries) }
    }

    /// Ends the exchange after `onFinish` has run, so a client holding the whole response also
    /// finds the generation's log line written and its registry entry gone.
    private func complete(_ summaries: [GenerationSummary]) {
        onFinish(summaries)
        state.withLock { s in
            if settings.stream { finishStream(summaries, &s) } else { respond(summaries, s) }
        }
    }

    private func open(_ s: inout State) {
        exchange.startEventStream()
        let b = settings.builder
        for i in 0..<settings.choices {
            switch b.kind {
            case .chat:
                send(ServerSentEvents.event(b.chunk(index: i, text: "", role: true, includeUsage: settings.includeUsage)), &s)
            case .text:
                // With prompt log-probabilities the echo waits for them.
                if let echo = settings.echo, !settings.promptLogprobs {
                    send(ServerSentEvents.event(b.chunk(index: i, text: echo, includeUsage: settings.includeUsage)), &s)
                    s.choices[i].textOffset = echo.unicodeScalars.count
                }
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

    /// Returns every choice's summary when the event finished the last one; `complete` then ends
    /// the exchange.
    private func process(_ index: Int, _ event: GenerationEvent, _ s: inout State) -> [GenerationSummary]? {
        guard !s.finished else { return nil }
        let b = settings.builder
        switch event {
        case .started:
            return nil
        case .promptLogprobs(let entries):
            guard settings.promptLogprobs else { return nil }
            s.promptEntries = entries
            guard settings.stream, let echo = settings.echo else { return nil }
            let offset = entries.reduce(0) { $0 + $1.text.unicodeScalars.count }
            for i in 0..<settings.choices {
                send(ServerSentEvents.event(b.chunk(index: i, text: echo, logprobs: entries, includeUsage: settings.includeUsage)), &s)
                s.choices[i].textOffset = offset
            }
            return nil
        case let .delta(text, _, logprobs):
            if let tools = settings.tools, s.choices[index].holding != false {
                s.choices[index].held += text
                s.choices[index].heldLogprobs += logprobs
                if tools.choice != .auto {
                    s.choices[index].holding = true
                } else if let first = s.choices[index].held.first(where: { !$0.isWhitespace }) {
                    s.choices[index].holding = first == "{"
                }
                guard s.choices[index].holding == false else { return nil }
                // Text after all: what was held goes out as ordinary output.
                release(index, &s)
                return nil
            }
            emit(index, text, logprobs, &s)
            return nil
        case .finished(let summary):
            s.choices[index].summary = summary
            if Self.error(summary) == nil, s.choices[index].holding == true, let tools = settings.tools {
                if let call = ToolCall.parse(s.choices[index].held, tools: tools.tools) {
                    s.choices[index].call = call
                    if settings.stream {
                        send(ServerSentEvents.event(b.chunk(index: index, text: nil, toolCalls: [call],
                                                            includeUsage: settings.includeUsage)), &s)
                    }
                } else {
                    // Not a call after all (cut by max_tokens): answered as content.
                    release(index, &s)
                }
            }
            if settings.stream, Self.error(summary) == nil {
                let reason = s.choices[index].call == nil ? summary.reason.rawValue : "tool_calls"
                let last = b.chunk(index: index, text: b.kind == .chat ? nil : "", finishReason: reason,
                                   includeUsage: settings.includeUsage)
                send(ServerSentEvents.event(last), &s)
            }
            let summaries = s.choices.compactMap(\.summary)
            guard summaries.count == settings.choices else { return nil }
            s.finished = true
            s.timer?.cancel()
            s.timer = nil
            let usage = Self.usage(summaries)
            exchange.addLogFields([
                ("finish_reason", summaries.map(\.reason.rawValue).joined(separator: ",")),
                ("prompt_tokens", String(usage.promptTokens)), ("cached_tokens", String(usage.cachedTokens)),
                ("completion_tokens", String(usage.completionTokens)),
            ])
            return summaries
        }
    }

    /// A choice's output text: a chunk when streaming, else kept for the response.
    private func emit(_ index: Int, _ text: String, _ logprobs: [TokenLogprob], _ s: inout State) {
        if settings.stream {
            guard !text.isEmpty || (settings.logprobs && !logprobs.isEmpty) else { return }
            let chunk = settings.builder.chunk(index: index, text: text, logprobs: settings.logprobs ? logprobs : nil,
                                               logprobsOffset: s.choices[index].textOffset, includeUsage: settings.includeUsage)
            send(ServerSentEvents.event(chunk), &s)
            s.choices[index].textOffset += logprobs.reduce(0) { $0 + $1.text.unicodeScalars.count }
        } else {
            s.choices[index].text += text
            if settings.logprobs { s.choices[index].logprobs += logprobs }
        }
    }

    /// Sends (or keeps) a choice's held output as ordinary text.
    private func release(_ index: Int, _ s: inout State) {
        let (text, logprobs) = (s.choices[index].held, s.choices[index].heldLogprobs)
        s.choices[index].held = ""
        s.choices[index].heldLogprobs = []
        emit(index, text, logprobs, &s)
    }

    /// The prompt counts once; completion tokens add up over the choices.
    private static func usage(_ summaries: [GenerationSummary]) -> Usage {
        Usage(promptTokens: summaries[0].promptTokens, completionTokens: summaries.reduce(0) { $0 + $1.completionTokens },
              cachedTokens: summaries[0].cachedPromptTokens)
    }

    private func respond(_ summaries: [GenerationSummary], _ s: State) {
        if let error = summaries.lazy.compactMap(Self.error).first { return exchange.fail(error) }
        let echo = settings.echo ?? ""
        let choices = zip(s.choices, summaries).map { choice, summary in
            ResponseBuilder.Choice(
                text: echo + choice.text, finishReason: choice.call == nil ? summary.reason.rawValue : "tool_calls",
                logprobs: settings.logprobs ? s.promptEntries + choice.logprobs + (choice.call == nil ? [] : choice.heldLogprobs) : nil,
                logprobsOffset: settings.promptLogprobs ? 0 : echo.unicodeScalars.count, toolCalls: choice.call.map { [$0] } ?? [])
        }
        exchange.respond(json: settings.builder.response(choices: choices, usage: Self.usage(summaries)))
    }

    private func finishStream(_ summaries: [GenerationSummary], _ s: inout State) {
        if let error = summaries.lazy.compactMap(Self.error).first {
            send(ServerSentEvents.event(error.json), &s)
        } else if settings.includeUsage {
            send(ServerSentEvents.event(settings.builder.usageChunk(Self.usage(summaries))), &s)
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
