/// One turn of a conversation as chat templates see it: `message.role` and `message.content`, and
/// for tool use `message.tool_calls` (assistant turns) or `message.tool_call_id` and `message.name`
/// (tool results), present only when set.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String
    public var toolCalls: [ChatToolCall]
    public var toolCallID: String?
    public var name: String?

    public init(role: String, content: String, toolCalls: [ChatToolCall] = [], toolCallID: String? = nil,
                name: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.name = name
    }

    private enum CodingKeys: String, CodingKey {
        case role, content, toolCalls = "tool_calls", toolCallID = "tool_call_id", name
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(role: try c.decode(String.self, forKey: .role), content: try c.decode(String.self, forKey: .content),
                  toolCalls: try c.decodeIfPresent([ChatToolCall].self, forKey: .toolCalls) ?? [],
                  toolCallID: try c.decodeIfPresent(String.self, forKey: .toolCallID),
                  name: try c.decodeIfPresent(String.self, forKey: .name))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(content, forKey: .content)
        if !toolCalls.isEmpty { try c.encode(toolCalls, forKey: .toolCalls) }
        try c.encodeIfPresent(toolCallID, forKey: .toolCallID)
        try c.encodeIfPresent(name, forKey: .name)
    }

    var templateValue: TemplateValue {
        var entries: [(key: String, value: TemplateValue)] = [(key: "role", value: .string(role)),
                                                              (key: "content", value: .string(content))]
        if !toolCalls.isEmpty { entries.append((key: "tool_calls", value: .array(toolCalls.map(\.templateValue)))) }
        if let toolCallID { entries.append((key: "tool_call_id", value: .string(toolCallID))) }
        if let name { entries.append((key: "name", value: .string(name))) }
        return .dict(entries)
    }
}

/// A function call in an assistant turn; `arguments` is JSON text.
public struct ChatToolCall: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    /// OpenAI's shape, with the arguments as an object: templates write them with `tojson`.
    var templateValue: TemplateValue {
        let arguments = (try? TemplateValue(json: arguments)) ?? .string(arguments)
        let function: TemplateValue = .dict([(key: "name", value: .string(name)), (key: "arguments", value: arguments)])
        return .dict([(key: "id", value: .string(id)), (key: "type", value: "function"), (key: "function", value: function)])
    }
}
