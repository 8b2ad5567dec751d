import ShiftAddScheduler

/// Builds the OpenAI-shaped bodies of one completion: the whole response, or the stream's chunks.
public struct ResponseBuilder: Sendable {
    public enum Kind: Sendable {
        /// `/v1/completions`: object `text_completion`, choices carry `text`.
        case text
        /// `/v1/chat/completions`: object `chat.completion` (chunks `chat.completion.chunk`),
        /// choices carry `message` (chunks `delta`).
        case chat
    }

    public let kind: Kind
    public let id: String
    public let created: Int
    public let model: String

    public init(kind: Kind, id: String, created: Int, model: String) {
        self.kind = kind
        self.id = id
        self.created = created
        self.model = model
    }

    /// A fresh id: `cmpl-…` or `chatcmpl-…` and 32 hex digits.
    public static func makeID(_ kind: Kind) -> String {
        (kind == .text ? "cmpl-" : "chatcmpl-") + RequestID.random()
    }

    /// One finished choice of a complete response.
    public struct Choice: Sendable {
        public var text: String
        public var finishReason: String
        public var logprobs: [TokenLogprob]?
        /// Where the first logprob entry's `text_offset` counts from (completions).
        public var logprobsOffset: Int
        /// Chat only: the message has these calls and no content.
        public var toolCalls: [ToolCall]

        public init(text: String, finishReason: String, logprobs: [TokenLogprob]?, logprobsOffset: Int = 0,
                    toolCalls: [ToolCall] = []) {
            self.text = text
            self.finishReason = finishReason
            self.logprobs = logprobs
            self.logprobsOffset = logprobsOffset
            self.toolCalls = toolCalls
        }
    }

    /// The complete (non-streamed) response of one choice.
    public func response(text: String, finishReason: String, logprobs: [TokenLogprob]?, logprobsOffset: Int = 0,
                         toolCalls: [ToolCall] = [], usage: Usage) -> JSONValue {
        response(choices: [Choice(text: text, finishReason: finishReason, logprobs: logprobs, logprobsOffset: logprobsOffset,
                                  toolCalls: toolCalls)],
                 usage: usage)
    }

    /// The complete (non-streamed) response, choices indexed in order.
    public func response(choices: [Choice], usage: Usage) -> JSONValue {
        envelope(kind == .text ? "text_completion" : "chat.completion",
                 choices: choices.enumerated().map { choiceJSON($0.offset, $0.element) }, usage: usage.json)
    }

    private func choiceJSON(_ index: Int, _ c: Choice) -> JSONValue {
        let (text, finishReason, logprobs, logprobsOffset, toolCalls) = (c.text, c.finishReason, c.logprobs, c.logprobsOffset,
                                                                          c.toolCalls)
        let choice: JSONValue
        switch kind {
        case .text:
            choice = .object([
                ("index", .int(index)),
                ("text", .string(text)),
                ("logprobs", logprobs.map { LogprobsJSON.completion($0, textOffset: logprobsOffset) } ?? .null),
                ("finish_reason", .string(finishReason)),
            ])
        case .chat:
            choice = .object([
                ("index", .int(index)),
                ("message", .object([("role", .string("assistant")), ("content", toolCalls.isEmpty ? .string(text) : .null),
                                     ("refusal", .null)] + (toolCalls.isEmpty ? [] : [("tool_calls", .array(toolCalls.map(\.json)))]))),
                ("logprobs", logprobs.map { LogprobsJSON.chat($0) } ?? .null),
                ("finish_reason", .string(finishReason)),
            ])
        }
        return choice
    }

    /// One streamed chunk. `text` nil: a chat chunk with an empty delta (the last one, with the
    /// finish reason). `role`: a chat chunk that opens the assistant's message. With
    /// `includeUsage`, the chunk has `"usage": null` (the usage comes in `usageChunk`).
    /// `toolCalls` (chat only): whole calls in one delta, each with its `index`.
    public func chunk(index: Int = 0, text: String?, role: Bool = false, finishReason: String? = nil, logprobs: [TokenLogprob]? = nil,
                      logprobsOffset: Int = 0, toolCalls: [ToolCall] = [], includeUsage: Bool = false) -> JSONValue {
        let choice: JSONValue
        switch kind {
        case .text:
            choice = .object([
                ("index", .int(index)),
                ("text", .string(text ?? "")),
                ("logprobs", logprobs.map { LogprobsJSON.completion($0, textOffset: logprobsOffset) } ?? .null),
                ("finish_reason", .optional(finishReason)),
            ])
        case .chat:
            var delta: [(String, JSONValue)] = []
            if role { delta.append(("role", .string("assistant"))) }
            if let text { delta.append(("content", .string(text))) }
            if !toolCalls.isEmpty {
                delta.append(("tool_calls", .array(toolCalls.enumerated().map { i, call in
                    guard case .object(let fields) = call.json else { return call.json }
                    return .object([("index", .int(i))] + fields)
                })))
            }
            choice = .object([
                ("index", .int(index)),
                ("delta", .object(delta)),
                ("logprobs", logprobs.map { LogprobsJSON.chat($0) } ?? .null),
                ("finish_reason", .optional(finishReason)),
            ])
        }
        return envelope(chunkObject, choices: [choice], usage: includeUsage ? .null : nil)
    }

    /// The chunk after the last choice chunk when the client asked for `stream_options.include_usage`.
    public func usageChunk(_ usage: Usage) -> JSONValue {
        envelope(chunkObject, choices: [], usage: usage.json)
    }

    private var chunkObject: String { kind == .text ? "text_completion" : "chat.completion.chunk" }

    private func envelope(_ object: String, choices: [JSONValue], usage: JSONValue?) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .string(id)), ("object", .string(object)), ("created", .int(created)), ("model", .string(model)),
            ("choices", .array(choices)),
        ]
        if let usage { fields.append(("usage", usage)) }
        return .object(fields)
    }
}
