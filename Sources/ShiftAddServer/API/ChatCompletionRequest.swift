import ShiftAddChatTemplate

/// A validated `POST /v1/chat/completions` body.
public struct ChatCompletionRequest: Sendable, Equatable {
    public static let roles = ["system", "user", "assistant"]
    public static let maxTopLogprobs = 20

    public var messages: [ChatMessage]
    public var options: GenerationOptions

    public init(messages: [ChatMessage], options: GenerationOptions = GenerationOptions()) {
        self.messages = messages
        self.options = options
    }

    /// Decodes and validates a request body; the error names the field at fault.
    public init(body: [UInt8]) throws(APIError) {
        let f = try JSONFields(body: body)
        options = try GenerationOptions(
            f, routeFields: ["messages", "max_tokens", "max_completion_tokens", "logprobs", "top_logprobs"],
            refused: FieldRule.refusedChat)
        let maxTokens = try f.integer("max_tokens", .atLeast(1))
        options.maxTokens = try f.integer("max_completion_tokens", .atLeast(1)) ?? maxTokens
        let logprobs = try f.bool("logprobs") ?? false
        let top = try f.integer("top_logprobs", .between(0, Double(Self.maxTopLogprobs)))
        if top != nil, !logprobs {
            throw .invalid("top_logprobs requires logprobs to be true", param: "top_logprobs")
        }
        options.logprobs = logprobs ? top ?? 0 : nil
        messages = try Self.messages(f)
    }

    /// `messages`: a non-empty array of {role, content}; content is a string or an array of
    /// `{"type":"text","text":...}` parts, joined with newlines.
    static func messages(_ f: JSONFields) throws(APIError) -> [ChatMessage] {
        guard let v = f.value("messages") else { throw .invalid("messages is required", param: "messages") }
        guard let items = v as? [Any], !items.isEmpty else {
            throw .invalid("messages must be a non-empty array of messages", param: "messages")
        }
        var messages: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            let name = "messages[\(i)]"
            guard let object = item as? [String: Any] else {
                throw .invalid("\(name) must be an object with role and content", param: name)
            }
            let m = JSONFields(object, prefix: name + ".")
            guard let role = try m.string("role") else { throw .invalid("\(name).role is required", param: name + ".role") }
            guard roles.contains(role) else {
                throw .invalid("\(name).role must be one of \(roles.joined(separator: ", "))", param: name + ".role")
            }
            messages.append(ChatMessage(role: role, content: try content(m, name: name + ".content")))
        }
        return messages
    }

    private static func content(_ m: JSONFields, name: String) throws(APIError) -> String {
        let message = "\(name) must be a string or an array of text parts"
        guard let v = m.value("content") else { throw .invalid("\(name) is required", param: name) }
        if let s = v as? String { return s }
        guard let parts = v as? [Any] else { throw .invalid(message, param: name) }
        var texts: [String] = []
        for (j, part) in parts.enumerated() {
            let partName = "\(name)[\(j)]"
            guard let object = part as? [String: Any] else { throw .invalid(message, param: partName) }
            let p = JSONFields(object, prefix: partName + ".")
            guard try p.string("type") == "text" else {
                throw .invalid("\(partName).type must be \"text\": only text parts are supported", param: partName + ".type")
            }
            guard let text = try p.string("text") else {
                throw .invalid("\(partName).text must be a string", param: partName + ".text")
            }
            texts.append(text)
        }
        return texts.joined(separator: "\n")
    }
}
