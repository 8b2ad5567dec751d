import ShiftAddChatTemplate

/// A validated `POST /tokenize` body: either a text prompt or chat messages (rendered with the
/// chat template first).
public struct TokenizeRequest: Sendable, Equatable {
    public enum Input: Sendable, Equatable {
        case text(String, addSpecialTokens: Bool)
        case messages([ChatMessage], addGenerationPrompt: Bool)
    }

    public var model: String?
    public var input: Input

    public init(model: String? = nil, input: Input) {
        self.model = model
        self.input = input
    }

    public init(body: [UInt8]) throws(APIError) {
        let f = try JSONFields(body: body)
        model = try f.string("model")
        if f.has("messages") {
            input = .messages(try ChatCompletionRequest.messages(f),
                              addGenerationPrompt: try f.bool("add_generation_prompt") ?? true)
        } else {
            guard let prompt = try f.string("prompt") else {
                throw .invalid("prompt (a string) or messages is required", param: "prompt")
            }
            input = .text(prompt, addSpecialTokens: try f.bool("add_special_tokens") ?? true)
        }
    }
}

/// A validated `POST /detokenize` body.
public struct DetokenizeRequest: Sendable, Equatable {
    public var model: String?
    public var tokens: [Int]

    public init(model: String? = nil, tokens: [Int]) {
        self.model = model
        self.tokens = tokens
    }

    public init(body: [UInt8]) throws(APIError) {
        let f = try JSONFields(body: body)
        model = try f.string("model")
        guard let v = f.value("tokens") else { throw .invalid("tokens is required", param: "tokens") }
        guard let items = v as? [Any] else { throw .invalid("tokens must be an array of token ids", param: "tokens") }
        var tokens: [Int] = []
        for item in items {
            guard let id = JSONFields.integer(item), id >= 0 else {
                throw .invalid("tokens must be an array of token ids (integers >= 0)", param: "tokens")
            }
            tokens.append(id)
        }
        self.tokens = tokens
    }
}
