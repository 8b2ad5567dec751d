/// A Hugging Face chat template (the Jinja text stored as `tokenizer.chat_template`), parsed once and
/// rendered for each conversation.
///
/// Rendering follows jinja2 as Hugging Face configures it: `trim_blocks` and `lstrip_blocks` on,
/// autoescaping off, an immutable sandbox, `raise_exception(message)`, `strftime_now(format)`, and a
/// `tojson` filter that writes non-ASCII text as is.
public struct ChatTemplate: Sendable {
    public let source: String
    public var limits: RenderLimits
    private let nodes: [Node]

    /// Parses `source`; throws a `.syntax` `TemplateError` with line and column if it is not valid.
    public init(source: String, limits: RenderLimits = RenderLimits()) throws {
        self.source = source
        self.limits = limits
        nodes = try Parser.parse(try Lexer.tokenize(source))
    }

    /// Renders the conversation. The template sees `messages` (each with `role` and `content`),
    /// `add_generation_prompt`, `bos_token`, `eos_token`, and every entry of `variables`; an entry there
    /// replaces the built-in one of the same name (pass `messages` to give messages extra fields such
    /// as `tool_calls`). Names not given, `tools` included, are undefined.
    public func render(
        messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
        variables: [String: TemplateValue] = [:]
    ) throws -> String {
        var context: [String: Value] = [
            "messages": .list(messages.map { Value($0.templateValue) }),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ]
        for (name, value) in variables { context[name] = Value(value) }
        return try Interpreter(limits: limits).render(nodes, context: context)
    }
}
