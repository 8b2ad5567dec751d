import Foundation
import ShiftAddChatTemplate
import Testing

/// Public API behaviour beyond the golden cases: variables, JSON values, globals.
@Suite struct RenderingTests {
    @Test func builtInVariablesReachTheTemplate() throws {
        let template = try ChatTemplate(source: "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}{{ add_generation_prompt }}")
        let text = try template.render(messages: [ChatMessage(role: "user", content: "x")], addGenerationPrompt: true,
                                       bosToken: "<s>", eosToken: "</s>")
        #expect(text == "<s>x</s>True")
    }

    @Test func toolsAreUndefinedUnlessGiven() throws {
        let source = "{{ tools is defined }} {{ tools is none }} {{ tools | default([], true) | length }}"
        #expect(try render(source) == "False False 0")
        #expect(try render(source, variables: ["tools": nil]) == "True True 0")
        #expect(try render(source, variables: ["tools": [["name": "a"]]]) == "True False 1")
    }

    @Test func variablesCanReplaceMessagesWithRicherOnes() throws {
        let messages: TemplateValue = [["role": "assistant", "content": nil,
                                        "tool_calls": [["name": "lookup", "arguments": ["q": "x"]]]]]
        let source = "{% for m in messages %}{{ m.content is none }} {{ m.tool_calls[0].arguments | tojson }}{% endfor %}"
        #expect(try render(source, variables: ["messages": messages]) == "True {\"q\": \"x\"}")
    }

    @Test func jsonValuesKeepKeyOrderThroughToJSON() throws {
        let tools = try TemplateValue(json: #"[{"z": 1, "a": {"y": [true, null, 2.5, -3]}, "m": "é\n"}]"#)
        #expect(try render("{{ tools | tojson }}", variables: ["tools": tools])
                    == #"[{"z": 1, "a": {"y": [true, null, 2.5, -3]}, "m": "é\n"}]"#)
        #expect(try render("{{ tools[0] | tojson(indent=1, sort_keys=true) }}", variables: ["tools": tools])
                    == "{\n \"a\": {\n  \"y\": [\n   true,\n   null,\n   2.5,\n   -3\n  ]\n },\n \"m\": \"é\\n\",\n \"z\": 1\n}")
    }

    @Test func jsonParsingHandlesEscapesNumbersAndErrors() throws {
        let value = try TemplateValue(json: #" {"s": "a\"\\\/\u00e9\ud83c\udf89", "i": 12, "d": 1e2, "k": 1, "k": 2} "#)
        #expect(value == ["s": "a\"\\/é🎉", "i": 12, "d": 100.0, "k": 2])
        for bad in ["", "[1,]", "{\"a\" 1}", "01", "\"unterminated", "[1] x", "nul"] {
            #expect(throws: TemplateError.self, "\(bad)") { try TemplateValue(json: bad) }
        }
        let error = try #require(throws: TemplateError.self) { try TemplateValue(json: "[tru]") }
        #expect(error.kind == .invalidJSON)
    }

    @Test func stringLiteralEscapesFollowPython() throws {
        #expect(try render("{{ 'a\\\nb' }}") == "ab")
        #expect(try render(#"{{ '\x41\u00e9\U0001F389\101\q\'' }}"#) == "Aé🎉A\\q'")
        #expect(failure(#"{{ '\x4' }}"#)?.message == "truncated \\x escape")
    }

    @Test func chatMessagesAreCodable() throws {
        let message = ChatMessage(role: "user", content: "hi")
        let json = "{\"role\":\"user\",\"content\":\"hi\"}"
        #expect(try JSONDecoder().decode(ChatMessage.self, from: Data(json.utf8)) == message)
        #expect(try JSONDecoder().decode(ChatMessage.self, from: JSONEncoder().encode(message)) == message)
    }

    @Test func strftimeNowFormatsTheCurrentDate() throws {
        let text = try render("{{ strftime_now('%Y-%m-%d') }}")
        #expect(text.count == 10)
        #expect(text.allSatisfy { $0.isNumber || $0 == "-" })
        #expect(text.split(separator: "-").map(\.count) == [4, 2, 2])
    }

    @Test func templatesRenderConcurrently() async throws {
        let template = try ChatTemplate(source: "{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}")
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try template.render(messages: [ChatMessage(role: "user", content: "\(index)")], addGenerationPrompt: false)
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(results == Set((0..<8).map { "user:\($0);" }))
    }
}
