import ShiftAddScheduler

/// Turns the events of one request's generations (its `n` choices) into its HTTP answer: a JSON
/// response when every choice has finished, or an event stream of chunks, choices interleaved by
/// `index`, with keep-alive comments while nothing else is sent.
///
/// A value held by the request's `GenerationLifecycle`, which feeds it one event at a time on the
/// request's own queue (never the engine thread) and ends it once.
struct GenerationAnswer {
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

    let settings: Settings
    private let exchange: Exchange
    private var choices: [Choice]
    /// The prompt's entries (`.promptLogprobs` of the first choice), shared by every choice.
    private var promptEntries: [TokenLogprob] = []
    private var sentSinceTick = false

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

    init(settings: Settings, exchange: Exchange) {
        self.settings = settings
        self.exchange = exchange
        choices = Array(repeating: Choice(), count: settings.choices)
    }

    /// Starts the event stream: its head, and each choice's role or echo.
    mutating func open() {
        exchange.startEventStream()
        let b = settings.builder
        for i in 0..<settings.choices {
            switch b.kind {
            case .chat:
                send(ServerSentEvents.event(b.chunk(index: i, text: "", role: true, includeUsage: settings.includeUsage)))
            case .text:
                // With prompt log-probabilities the echo waits for them.
                if let echo = settings.echo, !settings.promptLogprobs {
                    send(ServerSentEvents.event(b.chunk(index: i, text: echo, includeUsage: settings.includeUsage)))
                    choices[i].textOffset = echo.unicodeScalars.count
                }
            }
        }
    }

    /// A keep-alive comment unless something else went out since the last one.
    mutating func keepAlive() {
        if !sentSinceTick { exchange.send(ServerSentEvents.keepAlive) }
        sentSinceTick = false
    }

    private mutating func send(_ bytes: [UInt8]) {
        exchange.send(bytes)
        sentSinceTick = true
    }

    /// Returns every choice's summary when the event finished the last one; `finish` then ends the
    /// answer.
    mutating func process(_ index: Int, _ event: GenerationEvent) -> [GenerationSummary]? {
        let b = settings.builder
        switch event {
        case .started:
            return nil
        case .promptLogprobs(let entries):
            guard settings.promptLogprobs else { return nil }
            promptEntries = entries
            guard settings.stream, let echo = settings.echo else { return nil }
            let offset = entries.reduce(0) { $0 + $1.text.unicodeScalars.count }
            for i in 0..<settings.choices {
                send(ServerSentEvents.event(b.chunk(index: i, text: echo, logprobs: entries, includeUsage: settings.includeUsage)))
                choices[i].textOffset = offset
            }
            return nil
        case let .delta(text, _, logprobs):
            if let tools = settings.tools, choices[index].holding != false {
                choices[index].held += text
                choices[index].heldLogprobs += logprobs
                if tools.choice != .auto {
                    choices[index].holding = true
                } else if let first = choices[index].held.first(where: { !$0.isWhitespace }) {
                    choices[index].holding = first == "{"
                }
                guard choices[index].holding == false else { return nil }
                // Text after all: what was held goes out as ordinary output.
                release(index)
                return nil
            }
            emit(index, text, logprobs)
            return nil
        case .finished(let summary):
            choices[index].summary = summary
            if Self.error(summary) == nil, choices[index].holding == true, let tools = settings.tools {
                if let call = ToolCall.parse(choices[index].held, tools: tools.tools) {
                    choices[index].call = call
                    if settings.stream {
                        send(ServerSentEvents.event(b.chunk(index: index, text: nil, toolCalls: [call],
                                                            includeUsage: settings.includeUsage)))
                    }
                } else {
                    // Not a call after all (cut by max_tokens): answered as content.
                    release(index)
                }
            }
            if settings.stream, Self.error(summary) == nil {
                let reason = choices[index].call == nil ? summary.reason.rawValue : "tool_calls"
                let last = b.chunk(index: index, text: b.kind == .chat ? nil : "", finishReason: reason,
                                   includeUsage: settings.includeUsage)
                send(ServerSentEvents.event(last))
            }
            let summaries = choices.compactMap(\.summary)
            guard summaries.count == settings.choices else { return nil }
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
    private mutating func emit(_ index: Int, _ text: String, _ logprobs: [TokenLogprob]) {
        if settings.stream {
            guard !text.isEmpty || (settings.logprobs && !logprobs.isEmpty) else { return }
            let chunk = settings.builder.chunk(index: index, text: text, logprobs: settings.logprobs ? logprobs : nil,
                                               logprobsOffset: choices[index].textOffset, includeUsage: settings.includeUsage)
            send(ServerSentEvents.event(chunk))
            choices[index].textOffset += logprobs.reduce(0) { $0 + $1.text.unicodeScalars.count }
        } else {
            choices[index].text += text
            if settings.logprobs { choices[index].logprobs += logprobs }
        }
    }

    /// Sends (or keeps) a choice's held output as ordinary text.
    private mutating func release(_ index: Int) {
        let (text, logprobs) = (choices[index].held, choices[index].heldLogprobs)
        choices[index].held = ""
        choices[index].heldLogprobs = []
        emit(index, text, logprobs)
    }

    /// The prompt counts once; completion tokens add up over the choices.
    private static func usage(_ summaries: [GenerationSummary]) -> Usage {
        Usage(promptTokens: summaries[0].promptTokens, completionTokens: summaries.reduce(0) { $0 + $1.completionTokens },
              cachedTokens: summaries[0].cachedPromptTokens)
    }

    /// The JSON response, or the stream's usage chunk and `[DONE]`.
    mutating func finish(_ summaries: [GenerationSummary]) {
        if settings.stream { finishStream(summaries) } else { respond(summaries) }
    }

    private func respond(_ summaries: [GenerationSummary]) {
        if let error = summaries.lazy.compactMap(Self.error).first { return exchange.fail(error) }
        let echo = settings.echo ?? ""
        let answered = zip(choices, summaries).map { choice, summary in
            ResponseBuilder.Choice(
                text: echo + choice.text, finishReason: choice.call == nil ? summary.reason.rawValue : "tool_calls",
                logprobs: settings.logprobs ? promptEntries + choice.logprobs + (choice.call == nil ? [] : choice.heldLogprobs) : nil,
                logprobsOffset: settings.promptLogprobs ? 0 : echo.unicodeScalars.count, toolCalls: choice.call.map { [$0] } ?? [])
        }
        exchange.respond(json: settings.builder.response(choices: answered, usage: Self.usage(summaries)))
    }

    private mutating func finishStream(_ summaries: [GenerationSummary]) {
        if let error = summaries.lazy.compactMap(Self.error).first {
            send(ServerSentEvents.event(error.json))
        } else if settings.includeUsage {
            send(ServerSentEvents.event(settings.builder.usageChunk(Self.usage(summaries))))
        }
        send(ServerSentEvents.done)
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
