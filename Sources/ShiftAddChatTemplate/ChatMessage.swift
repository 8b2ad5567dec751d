/// One turn of a conversation as chat templates see it: `message.role` and `message.content`.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    var templateValue: TemplateValue {
        .dict([(key: "role", value: .string(role)), (key: "content", value: .string(content))])
    }
}
