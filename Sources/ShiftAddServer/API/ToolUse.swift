import Foundation
import ShiftAddChatTemplate
import ShiftAddGrammar

/// A function the model may call (`tools[i].function`).
public struct ToolDefinition: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The parameters' JSON Schema as canonical JSON text.
    public var parameters: String
}

/// `tool_choice`.
public enum ToolChoice: Sendable, Equatable {
    /// Tools are neither shown nor called.
    case none
    /// The model answers in text or calls a tool; the first token decides.
    case auto
    /// The output is a call of one of the tools.
    case required
    /// The output is a call of this tool.
    case function(String)
}

/// The request's tools and how they may be used. The call format, for any template, is one JSON
/// object `{"name": NAME, "arguments": {...}}` whose arguments follow the tool's parameter schema.
public struct ToolUse: Sendable, Equatable {
    public var tools: [ToolDefinition]
    public var choice: ToolChoice
    /// The grammar of a call of the tools `choice` allows; nil for `.none`.
    let call: Grammar?
    /// The canonical text of what `call` enforces, under which the server caches its constraint.
    let key: String

    public static func == (a: ToolUse, b: ToolUse) -> Bool { a.tools == b.tools && a.choice == b.choice }

    /// nil when the request has no `tools` (and `tool_choice` is absent or "none").
    static func parse(_ f: JSONFields) throws(APIError) -> ToolUse? {
        _ = try f.bool("parallel_tool_calls")
        var tools: [ToolDefinition] = []
        var schemas: [Any] = []
        if let v = f.value("tools") {
            guard let items = v as? [Any] else { throw .invalid("tools must be an array of tools", param: "tools") }
            for (i, item) in items.enumerated() {
                let (tool, schema) = try definition(item, name: "tools[\(i)]")
                guard !tools.contains(where: { $0.name == tool.name }) else {
                    throw .invalid("tools[\(i)].function.name repeats `\(tool.name)`", param: "tools[\(i)].function.name")
                }
                tools.append(tool)
                schemas.append(schema)
            }
        }
        let choice = try Self.choice(f, tools: tools)
        if tools.isEmpty { return nil }
        var allowed = Array(tools.indices)
        switch choice {
        case .none: return ToolUse(tools: tools, choice: .none, call: nil, key: "")
        case .function(let name): allowed = [tools.firstIndex { $0.name == name }!]
        case .auto, .required: break
        }
        let call: Grammar
        do {
            call = try JSONSchemaCompiler.toolCall(allowed.map { (tools[$0].name, schemas[$0]) },
                                                   path: { "tools[\(allowed[$0])].function.parameters" })
        } catch {
            throw .invalid("\(error.path): \(error.message)", param: error.path)
        }
        let key = "tools:" + allowed.map { tools[$0].name + ":" + tools[$0].parameters }.joined(separator: ",")
        return ToolUse(tools: tools, choice: choice, call: call, key: key)
    }

    private static func definition(_ item: Any, name: String) throws(APIError) -> (ToolDefinition, Any) {
        guard let object = item as? [String: Any] else {
            throw .invalid("\(name) must be an object with type and function", param: name)
        }
        let t = JSONFields(object, prefix: name + ".")
        guard try t.string("type") == "function" else {
            throw .invalid("\(name).type must be \"function\"", param: name + ".type")
        }
        guard let function = try t.object("function") else {
            throw .invalid("\(name).function is required", param: name + ".function")
        }
        guard let fname = try function.string("name"), !fname.isEmpty, fname.count <= 64,
              fname.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0)
                  || $0 == "_" || $0 == "-" }) else {
            throw .invalid("\(name).function.name must be 1 to 64 letters, digits, underscores or dashes",
                           param: name + ".function.name")
        }
        let description = try function.string("description")
        _ = try function.bool("strict")
        let schema: Any
        if let p = function.value("parameters") {
            guard p is [String: Any] else {
                throw .invalid("\(name).function.parameters must be a JSON Schema object", param: name + ".function.parameters")
            }
            schema = p
        } else {
            schema = ["type": "object", "properties": [String: Any]()]
        }
        return (ToolDefinition(name: fname, description: description, parameters: ResponseFormat.canonical(schema)), schema)
    }

    private static func choice(_ f: JSONFields, tools: [ToolDefinition]) throws(APIError) -> ToolChoice {
        let message = "tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}"
        guard let v = f.value("tool_choice") else { return tools.isEmpty ? .none : .auto }
        let choice: ToolChoice
        if let s = v as? String {
            switch s {
            case "none": choice = .none
            case "auto": choice = .auto
            case "required": choice = .required
            default: throw .invalid(message, param: "tool_choice")
            }
        } else if let named = try f.object("tool_choice"), try named.string("type") == "function",
                  let function = try named.object("function"), let name = try function.string("name") {
            guard tools.contains(where: { $0.name == name }) else {
                throw .invalid("tool_choice names `\(name)`, which is not in tools", param: "tool_choice")
            }
            choice = .function(name)
        } else {
            throw .invalid(message, param: "tool_choice")
        }
        if tools.isEmpty, choice != .none { throw .invalid("tool_choice needs tools", param: "tool_choice") }
        return choice
    }

    // MARK: The prompt

    /// The conversation through `template`: a template that reads `tools` gets them (unless the
    /// choice is "none") and the messages with their tool fields; any other gets the generic format.
    static func render(_ messages: [ChatMessage], tools: ToolUse?, with template: ChatTemplate, addGenerationPrompt: Bool,
                       bosToken: String, eosToken: String) throws -> String {
        if template.source.contains("tools") {
            let variables = tools.map { $0.choice == .none ? [:] : ["tools": $0.templateTools] } ?? [:]
            return try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken,
                                       eosToken: eosToken, variables: variables)
        }
        return try template.render(messages: tools?.genericMessages(messages) ?? plain(messages),
                                   addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
    }

    /// The conversation for a template that has no `tools` variable: the tools and the call format
    /// in the system message, calls as their JSON text, results as user turns.
    func genericMessages(_ messages: [ChatMessage]) -> [ChatMessage] {
        var out = Self.plain(messages)
        guard choice != .none else { return out }
        let preamble = genericPreamble
        if let first = out.first, first.role == "system" {
            out[0].content = first.content + "\n\n" + preamble
        } else {
            out.insert(ChatMessage(role: "system", content: preamble), at: 0)
        }
        return out
    }

    var genericPreamble: String {
        let lines = tools.map { tool in
            var fields = ["\"name\": " + ResponseFormat.canonical(tool.name)]
            if let d = tool.description { fields.append("\"description\": " + ResponseFormat.canonical(d)) }
            fields.append("\"parameters\": " + tool.parameters)
            return "{" + fields.joined(separator: ", ") + "}"
        }
        return "You can call these tools:\n" + lines.joined(separator: "\n")
            + "\nTo call a tool, reply with only a JSON object {\"name\": <tool name>, \"arguments\": <arguments object>}."
    }

    /// Tool turns as plain turns, for templates that know only role and content (tool use or not):
    /// `developer` as `system`, an assistant's calls as their JSON text, a tool result as a user
    /// turn naming the tool.
    static func plain(_ messages: [ChatMessage]) -> [ChatMessage] {
        var names: [String: String] = [:]
        return messages.map { m in
            switch m.role {
            case "developer":
                return ChatMessage(role: "system", content: m.content)
            case "assistant" where !m.toolCalls.isEmpty:
                let calls = m.toolCalls.map { call in
                    names[call.id] = call.name
                    return "{\"name\": \(ResponseFormat.canonical(call.name)), \"arguments\": \(call.arguments)}"
                }
                return ChatMessage(role: "assistant", content: ([m.content].filter { !$0.isEmpty } + calls).joined(separator: "\n"))
            case "tool":
                let tool = m.name ?? m.toolCallID.flatMap { names[$0] } ?? "the tool"
                return ChatMessage(role: "user", content: "Result of \(tool):\n\(m.content)")
            default:
                return ChatMessage(role: m.role, content: m.content)
            }
        }
    }

    /// `tools` as a template variable, in OpenAI's shape.
    var templateTools: TemplateValue {
        .array(tools.map { tool in
            var function: [(key: String, value: TemplateValue)] = [(key: "name", value: .string(tool.name))]
            if let d = tool.description { function.append((key: "description", value: .string(d))) }
            function.append((key: "parameters", value: (try? TemplateValue(json: tool.parameters)) ?? .dict([])))
            return .dict([(key: "type", value: "function"), (key: "function", value: .dict(function))])
        })
    }
}

/// A call parsed from the output.
public struct ToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    /// JSON text of the arguments object.
    public var arguments: String

    /// The call in `text` (`{"name": ..., "arguments": {...}}`) when it is one of `tools`; nil otherwise.
    static func parse(_ text: String, tools: [ToolDefinition]) -> ToolCall? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let name = object["name"] as? String, tools.contains(where: { $0.name == name }),
              let arguments = object["arguments"] as? [String: Any] else { return nil }
        return ToolCall(id: "call_" + RequestID.random().prefix(24), name: name, arguments: ResponseFormat.canonical(arguments))
    }

    var json: JSONValue {
        .object([("id", .string(id)), ("type", .string("function")),
                 ("function", .object([("name", .string(name)), ("arguments", .string(arguments))]))])
    }
}
