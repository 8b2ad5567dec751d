/// A prompt as the client sent it: text, or token ids of the served model's vocabulary.
public enum PromptInput: Sendable, Equatable {
    case text(String)
    case tokens([Int])
}

/// A validated `POST /v1/completions` body.
public struct CompletionRequest: Sendable, Equatable {
    public static let defaultMaxTokens = 16
    public static let maxLogprobs = 5

    public var prompt: PromptInput
    public var echo = false
    public var options: GenerationOptions

    public init(prompt: PromptInput, echo: Bool = false, options: GenerationOptions = GenerationOptions()) {
        self.prompt = prompt
        self.echo = echo
        self.options = options
    }

    /// Decodes and validates a request body; the error names the field at fault.
    public init(body: [UInt8]) throws(APIError) {
        let f = try JSONFields(body: body)
        options = try GenerationOptions(f, routeFields: ["prompt", "max_tokens", "logprobs", "echo"],
                                        refused: FieldRule.refusedCompletion)
        echo = try f.bool("echo") ?? false
        // With echo, 0 scores the prompt and generates nothing.
        options.maxTokens = try f.integer("max_tokens", .atLeast(echo ? 0 : 1)) ?? Self.defaultMaxTokens
        options.logprobs = try f.integer("logprobs", .between(0, Double(Self.maxLogprobs)))
        prompt = try Self.prompt(f)
    }

    /// `prompt`: a string, an array of token ids, or a one-element array of either.
    private static func prompt(_ f: JSONFields) throws(APIError) -> PromptInput {
        let message = "prompt must be a string or an array of token ids"
        guard let v = f.value("prompt") else { throw .invalid("prompt is required", param: "prompt") }
        var single = v
        if let items = v as? [Any], let first = items.first, first is String || first is [Any] {
            guard items.count == 1 else {
                throw .invalid("prompt holds \(items.count) prompts; one prompt per request is supported", param: "prompt")
            }
            single = first
        }
        if let text = single as? String {
            guard !text.isEmpty else { throw .invalid("prompt must not be empty", param: "prompt") }
            return .text(text)
        }
        guard let items = single as? [Any] else { throw .invalid(message, param: "prompt") }
        guard !items.isEmpty else { throw .invalid("prompt must not be empty", param: "prompt") }
        var tokens: [Int] = []
        tokens.reserveCapacity(items.count)
        for item in items {
            guard let id = JSONFields.integer(item), id >= 0 else {
                throw .invalid("\(message); token ids are integers >= 0", param: "prompt")
            }
            tokens.append(id)
        }
        return .tokens(tokens)
    }
}
