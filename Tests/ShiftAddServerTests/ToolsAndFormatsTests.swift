import Foundation
import ShiftAddChatTemplate
@testable import ShiftAddServer
import Testing

private func chat(_ json: String) throws(APIError) -> ChatCompletionRequest {
    try ChatCompletionRequest(body: Array(json.utf8))
}

private let weather = #"{"type":"function","function":{"name":"get_weather","description":"Weather now.","#
    + #""parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}"#

@Suite struct ToolsAndFormatsTests {
    @Test func responseFormats() throws {
        let user = #""messages":[{"role":"user","content":"hi"}]"#
        #expect(try chat("{\(user),\"response_format\":{\"type\":\"text\"}}").options.responseFormat == nil)
        #expect(try chat("{\(user),\"response_format\":{\"type\":\"json_object\"}}").options.responseFormat?.key == "json_object")
        let schema = try chat(#"{"#
            + user + #","response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"#
            + #""schema":{"type":"object","properties":{"b":{"type":"integer"},"a":{"enum":["x"]}}}}}}"#)
        #expect(schema.options.responseFormat?.key
            == #"json_schema:{"properties":{"a":{"enum":["x"]},"b":{"type":"integer"}},"type":"object"}"#)
    }

    @Test func toolMessagesAreAccepted() throws {
        let r = try chat(#"{"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"Weather?"},"#
            + #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","#
            + #""function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},"#
            + #"{"role":"tool","tool_call_id":"call_1","content":"12 C"}],"tools":["# + weather + "]}")
        #expect(r.messages == [
            ChatMessage(role: "developer", content: "Be brief."), ChatMessage(role: "user", content: "Weather?"),
            ChatMessage(role: "assistant", content: "",
                        toolCalls: [ChatToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Oslo"}"#)]),
            ChatMessage(role: "tool", content: "12 C", toolCallID: "call_1"),
        ])
        #expect(r.tools?.choice == .auto)
        #expect(r.tools?.tools.map(\.name) == ["get_weather"])
        // The generic format: tools in the system turn, calls as JSON, results as user turns.
        let generic = try #require(r.tools).genericMessages(r.messages)
        #expect(generic.map(\.role) == ["system", "user", "assistant", "user"])
        #expect(generic[0].content == "Be brief.\n\nYou can call these tools:\n"
            + #"{"name": "get_weather", "description": "Weather now.", "parameters": "#
            + #"{"properties":{"city":{"type":"string"}},"required":["city"],"type":"object"}}"#
            + "\nTo call a tool, reply with only a JSON object {\"name\": <tool name>, \"arguments\": <arguments object>}.")
        #expect(generic[2].content == #"{"name": "get_weather", "arguments": {"city":"Oslo"}}"#)
        #expect(generic[3].content == "Result of get_weather:\n12 C")
        let none = try chat(#"{"messages":[{"role":"user","content":"hi"}],"tool_choice":"none","tools":["# + weather + "]}")
        #expect(none.tools?.genericMessages(none.messages) == [ChatMessage(role: "user", content: "hi")])
    }

    @Test(arguments: [
        (#""response_format":{"type":"bogus"}"#, "response_format.type",
         #"response_format.type must be one of text, json_object, json_schema; got "bogus""#),
        (#""response_format":{}"#, "response_format.type", "response_format.type is required"),
        (#""response_format":{"type":"json_schema"}"#, "response_format.json_schema", "response_format.json_schema is required"),
        (#""response_format":{"type":"json_schema","json_schema":{"name":"x"}}"#, "response_format.json_schema.schema",
         "response_format.json_schema.schema is required"),
        (#""response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object","properties":{"a":{"type":"string","format":"date"}}}}}"#,
         "response_format.json_schema.schema.properties.a.format",
         "response_format.json_schema.schema.properties.a.format: the keyword `format` is not supported"),
        (#""response_format":{"type":"json_schema","json_schema":{"schema":{"type":"array"}}}"#,
         "response_format.json_schema.schema.type",
         #"response_format.json_schema.schema.type: the root must be an object ("type": "object")"#),
        (#""tools":{}"#, "tools", "tools must be an array of tools"),
        (#""tools":[{"type":"retrieval"}]"#, "tools[0].type", #"tools[0].type must be "function""#),
        (#""tools":[{"type":"function","function":{"name":"a b"}}]"#, "tools[0].function.name",
         "tools[0].function.name must be 1 to 64 letters, digits, underscores or dashes"),
        (#""tools":[{"type":"function","function":{"name":"f","parameters":[]}}]"#, "tools[0].function.parameters",
         "tools[0].function.parameters must be a JSON Schema object"),
        (#""tools":[{"type":"function","function":{"name":"f","parameters":{"type":"string"}}}]"#,
         "tools[0].function.parameters", #"tools[0].function.parameters: must describe an object ("type": "object")"#),
        (#""tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"minimum":1}}}}}]"#,
         "tools[0].function.parameters.properties.a.minimum",
         "tools[0].function.parameters.properties.a.minimum: the keyword `minimum` is not supported"),
        (#""tool_choice":"required""#, "tool_choice", "tool_choice needs tools"),
        (#""tool_choice":"always","tools":["# + weather + "]", "tool_choice",
         #"tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}"#),
        (#""tool_choice":{"type":"function","function":{"name":"other"}},"tools":["# + weather + "]", "tool_choice",
         "tool_choice names `other`, which is not in tools"),
        (#""response_format":{"type":"json_object"},"tools":["# + weather + "]", "response_format",
         #"response_format cannot be combined with tools unless tool_choice is "none""#),
    ])
    func fieldErrors(fields: String, param: String, message: String) {
        #expect(throws: APIError.invalid(message, param: param)) {
            try chat(#"{"messages":[{"role":"user","content":"hi"}],"# + fields + "}")
        }
    }

    @Test(arguments: [
        (#"{"role":"tool","content":"x"}"#, "messages[0].tool_call_id", "messages[0].tool_call_id is required in a tool message"),
        (#"{"role":"assistant","content":null}"#, "messages[0].content", "messages[0].content is required"),
        (#"{"role":"assistant","tool_calls":{}}"#, "messages[0].tool_calls", "messages[0].tool_calls must be an array of tool calls"),
        (#"{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}"#,
         "messages[0].tool_calls[0].id", "messages[0].tool_calls[0].id is required"),
        (#"{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":{}}}]}"#,
         "messages[0].tool_calls[0].function.arguments", "messages[0].tool_calls[0].function.arguments must be a string"),
        (#"{"role":"assistant","tool_calls":[{"id":"c","function":{"arguments":"{}"}}]}"#,
         "messages[0].tool_calls[0].function.name", "messages[0].tool_calls[0].function.name is required"),
    ])
    func toolMessageErrors(message: String, param: String, text: String) {
        #expect(throws: APIError.invalid(text, param: param)) { try chat(#"{"messages":["# + message + "]}") }
    }

    /// A template that reads `tools` renders them and the tool fields of its messages itself.
    @Test func aTemplateWithToolsGetsThem() throws {
        let template = try ChatTemplate(source: """
            {% for t in tools %}[{{ t.function.name }} {{ t.function.parameters | tojson }}]{% endfor %}
            {% for m in messages %}{{ m.role }}:{{ m.content }}{% if m.tool_calls %}{{ m.tool_calls[0].function | tojson }}{% endif %}\
            {% if m.tool_call_id %}({{ m.tool_call_id }}){% endif %};{% endfor %}
            """)
        let r = try chat(#"{"messages":[{"role":"user","content":"Weather?"},"#
            + #"{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","#
            + #""function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},"#
            + #"{"role":"tool","tool_call_id":"c1","content":"12 C"}],"tools":["# + weather + "]}")
        let text = try ToolUse.render(r.messages, tools: r.tools, with: template, addGenerationPrompt: false, bosToken: "",
                                      eosToken: "")
        #expect(text == #"[get_weather {"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"}]"#
            + #"user:Weather?;assistant:{"name": "get_weather", "arguments": {"city": "Oslo"}};tool:12 C(c1);"#)
        // Without a `tools` variable in the template: the generic format.
        let plain = try ChatTemplate(source: "{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}")
        let generic = try ToolUse.render(r.messages, tools: r.tools, with: plain, addGenerationPrompt: false, bosToken: "",
                                         eosToken: "")
        #expect(generic.hasPrefix("system:You can call these tools:\n"))
        #expect(generic.hasSuffix(#"user:Weather?;assistant:{"name": "get_weather", "arguments": {"city":"Oslo"}};"#
            + "user:Result of get_weather:\n12 C;"))
    }

    @Test func callsParseFromTheOutput() throws {
        let tools = [ToolDefinition(name: "get_weather", description: nil, parameters: "{}")]
        let call = try #require(ToolCall.parse(#"{"arguments": {"city": "Oslo/Bergen"}, "name": "get_weather"}"#, tools: tools))
        #expect(call.name == "get_weather")
        #expect(call.arguments == #"{"city":"Oslo/Bergen"}"#)
        #expect(call.id.hasPrefix("call_") && call.id.count == 29)
        #expect(ToolCall.parse(#"{"name": "other", "arguments": {}}"#, tools: tools) == nil)
        #expect(ToolCall.parse(#"{"name": "get_weather", "arguments": {"#, tools: tools) == nil)
        #expect(ToolCall.parse("It is sunny.", tools: tools) == nil)
    }

    @Test func responsesCarryToolCalls() throws {
        let builder = ResponseBuilder(kind: .chat, id: "chatcmpl-1", created: 1, model: "m")
        let call = ToolCall(id: "call_1", name: "f", arguments: #"{"a":1}"#)
        let body = builder.response(text: "", finishReason: "tool_calls", logprobs: nil, toolCalls: [call],
                                    usage: Usage(promptTokens: 1, completionTokens: 2, cachedTokens: 0)).text
        #expect(body.contains(#""message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}"#))
        #expect(body.contains(#""finish_reason":"tool_calls""#))
        #expect(builder.chunk(text: nil, toolCalls: [call]).text.contains(
            #""delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}"#))
    }
}
