import Foundation
import ShiftAddChatTemplate
import Testing

/// One entry of Golden/templates.json, written by Scripts/make_template_golden.py from jinja2.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    let name: String
    let template: String
    let messages: [ChatMessage]
    let addGenerationPrompt: Bool
    let bosToken: String
    let eosToken: String
    let variables: [String: TemplateValue]
    /// The rendered text, or nil when rendering must fail with `expectedError`.
    let expected: String?
    let expectedError: String?

    var testDescription: String { name }

    enum LoadError: Error, CustomStringConvertible {
        case missingFile
        case malformed(String)

        var description: String {
            switch self {
            case .missingFile: "Golden/templates.json is not in the test bundle"
            case .malformed(let what): "Golden/templates.json: \(what)"
            }
        }
    }

    /// Parsed with `TemplateValue(json:)` so that `tools` keep their key order for `tojson`.
    static func load() throws -> [GoldenCase] {
        guard let url = Bundle.module.url(forResource: "templates", withExtension: "json", subdirectory: "Golden") else {
            throw LoadError.missingFile
        }
        let root = try TemplateValue(json: String(decoding: try Data(contentsOf: url), as: UTF8.self))
        guard case .array(let entries)? = root["cases"] else { throw LoadError.malformed("no 'cases' array") }
        return try entries.map(GoldenCase.init)
    }

    private init(_ entry: TemplateValue) throws {
        func string(_ key: String) throws -> String {
            guard case .string(let value)? = entry[key] else { throw LoadError.malformed("case lacks string '\(key)'") }
            return value
        }
        let name = try string("name")
        self.name = name
        template = try string("template")
        bosToken = try string("bos_token")
        eosToken = try string("eos_token")
        guard case .bool(let flag)? = entry["add_generation_prompt"] else {
            throw LoadError.malformed("\(name): no add_generation_prompt")
        }
        addGenerationPrompt = flag
        guard case .array(let rawMessages)? = entry["messages"] else { throw LoadError.malformed("\(name): no messages") }
        messages = try rawMessages.map { message in
            guard case .string(let role)? = message["role"], case .string(let content)? = message["content"] else {
                throw LoadError.malformed("\(name): message without role/content")
            }
            return ChatMessage(role: role, content: content)
        }
        var variables: [String: TemplateValue] = [:]
        if case .dict(let entries)? = entry["variables"] {
            for (key, value) in entries { variables[key] = value }
        }
        self.variables = variables
        if case .string(let text)? = entry["expected"] {
            expected = text
            expectedError = nil
        } else if case .string(let message)? = entry["expected_error"] {
            expected = nil
            expectedError = message
        } else {
            throw LoadError.malformed("\(name): neither expected nor expected_error")
        }
    }

    /// Renders the case, returning the text or the error's message.
    func render() -> Result<String, TemplateError> {
        Result {
            try ChatTemplate(source: template).render(
                messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken,
                eosToken: eosToken, variables: variables)
        }.mapError { $0 as? TemplateError ?? TemplateError(kind: .runtime, message: "\($0)") }
    }
}
