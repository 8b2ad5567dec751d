import ShiftAddChatTemplate

/// A validated `POST /v1/chat/completions` body.
public struct ChatCompletionRequest: Sendable, Equatable {
    public static let roles = ["system", "user", "assistant", "developer", "tool"]
    public static let maxTopLogprobs = 20

    public var messages: [ChatMessage]
    public var options: GenerationOptions
    /// nil: no tools, or `tool_choice` "none" with none given.
    public var tools: ToolUse?

    public init(messages: [ChatMessage], options: GenerationOptions = GenerationOptions()) {
        self.messages = messages
        self.options = options
    }

    /// Decodes and validates a request body; the error names the field at fault.
    public init(body: [UInt8]) throws(APIError) {
        let f = try JSONFields(body: body)
        options = try GenerationOptions(
            f, routeFields: ["messages", "max_tokens", "max_completion_tokens", "logprobs", "top_logprobs", "tools", "tool_choice",
                             "parallel_tool_calls"],
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
        tools = try ToolUse.parse(f)
        if options.responseFormat != nil, let tools, tools.choice != .none {
            throw .invalid("response_format cannot be combined with tools unless tool_choice is \"none\"",
                           param: "response_format")
        }
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
            let toolCalls = role == "assistant" ? try Self.toolCalls(m, name: name + ".tool_calls") : []
            var message = ChatMessage(role: role, content: try content(m, name: name + ".content", optional: !toolCalls.isEmpty),
                                      toolCalls: toolCalls, name: try m.string("name"))
            if role == "tool" {
                guard let id = try m.string("tool_call_id") else {
                    throw .invalid("\(name).tool_call_id is required in a tool message", param: name + ".tool_call_id")
                }
                message.toolCallID = id
            }
            messages.append(message)
        }
        return messages
    }

    /// An assistant message's `tool_calls`: `[{id, type: "function", function: {name, arguments}}]`.
    private static func toolCalls(_ m: JSONFields, name: String) throws(APIError) -> [ChatToolCall] {
        guard let v = m.value("tool_calls") else { return [] }
        guard let items = v as? [Any] else { throw .invalid("\(name) must be an array of tool calls", param: name) }
        var calls: [ChatToolCall] = []
        for (j, item) in items.enumerated() {
            let callName = "\(name)[\(j)]"
            guard let object = item as? [String: Any] else {
                throw .invalid("\(callName) must be an object with id, type and function", param: callName)
            }
            let c = JSONFields(object, prefix: callName + ".")
            guard let id = try c.string("id") else { throw .invalid("\(callName).id is required", param: callName + ".id") }
            guard try c.string("type") ?? "function" == "function" else {
                throw .invalid("\(callName).type must be \"function\"", param: callName + ".type")
            }
            guard let function = try c.object("function") else {
                throw .invalid("\(callName).function is required", param: callName + ".function")
            }
            guard let fname = try function.string("name") else {
                throw .invalid("\(callName).function.name is required", param: callName + ".function.name")
            }
            guard let arguments = try function.string("arguments") else {
                throw .invalid("\(callName).function.arguments is required (a JSON string)", param: callName + ".function.arguments")
            }
            calls.append(ChatToolCall(id: id, name: fname, arguments: arguments))
        }
        return calls
    }

    /// `optional`: an assistant message with tool calls may have no content (null).
    private static func content(_ m: JSONFields, name: String, optional: Bool = false) throws(APIError) -> String {
        let message = "\(name) must be a string or an array of text parts"
        guard let v = m.value("content") else {
            if optional { return "" }
            throw .invalid("\(name) is required", param: name)
        }
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
