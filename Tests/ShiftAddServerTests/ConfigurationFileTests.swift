import Foundation
import ShiftAddServer
import Testing

/// The shipped default configuration, the help text and the reference page cover every option;
/// the API keys file is read as documented.
@Suite struct ConfigurationFileTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func shippedConfigFileHoldsEveryOptionAtItsDefault() throws {
        let path = Self.repository.appendingPathComponent("Config/shiftadd.json").path
        let loaded = try ServerConfiguration.load(arguments: ["--config", path], environment: [:])
        #expect(loaded == ServerConfiguration())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(Set(object.keys) == Set(ServerOption.allCases.map(\.fileKey)))
    }

    @Test func helpListsEveryOptionWithItsEnvironmentVariableAndDefault() {
        let help = ServerConfiguration.helpText()
        for option in ServerOption.allCases {
            #expect(help.contains("--\(option.rawValue) \(option.valueName)"), "\(option)")
            #expect(help.contains("[env \(option.environmentName)]"), "\(option)")
        }
        for text in ["--config FILE", "SHIFTADD_CONFIG", "(default: 8080)", "(default: 4MiB)", "(default: 30s)", "(default: info)"] {
            #expect(help.contains(text), "\(text)")
        }
    }

    @Test func referencePageDocumentsEveryOption() throws {
        let page = try String(contentsOf: Self.repository.appendingPathComponent("Docs/configuration.md"), encoding: .utf8)
        let defaults = ServerConfiguration()
        for option in ServerOption.allCases {
            let row = try #require(page.split(separator: "\n").first { $0.hasPrefix("| `--\(option.rawValue)`") }, "\(option)")
            #expect(row.contains("`\(option.environmentName)`") && row.contains("`\(option.fileKey)`"), "\(row)")
            if let value = option.text(in: defaults), !value.isEmpty {
                #expect(row.contains("`\(value)`"), "\(row) lacks the default \(value)")
            }
        }
    }

    @Test func apiKeysFileSkipsBlankLinesAndComments() throws {
        let path = NSTemporaryDirectory() + "shiftadd-keys-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("# team keys\nsk-first\n\n  sk-second  \r\n#sk-retired\n".utf8).write(to: URL(fileURLWithPath: path))
        let c = try ServerConfiguration.load(arguments: ["--api-keys-file", path], environment: [:])
        #expect(try c.loadAPIKeys() == ["sk-first", "sk-second"])
        #expect(try ServerConfiguration().loadAPIKeys().isEmpty)
    }

    @Test func badApiKeysFilesFailWithoutQuotingKeys() throws {
        let path = NSTemporaryDirectory() + "shiftadd-keys-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var c = ServerConfiguration()
        c.apiKeysFile = path
        #expect(throws: ConfigurationError.self) { try c.loadAPIKeys() }
        try Data("# only a comment\n\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try c.loadAPIKeys()
            Issue.record("a file without keys was accepted")
        } catch {
            #expect(error.option == "api-keys-file" && error.reason.contains("holds no keys"))
        }
        try Data("sk-good\nsk secret-part\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try c.loadAPIKeys()
            Issue.record("a key with a space was accepted")
        } catch {
            #expect(error.reason.contains("key 2") && !error.description.contains("secret-part") && !error.description.contains("sk-good"))
        }
    }

    @Test func chatTemplateFileIsReadAndCheckedToParse() throws {
        let path = NSTemporaryDirectory() + "shiftadd-template-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}<assistant>"
        try Data(template.utf8).write(to: URL(fileURLWithPath: path))
        let c = try ServerConfiguration.load(arguments: ["--chat-template", path], environment: [:])
        #expect(try c.loadChatTemplate() == template)
        #expect(try ServerConfiguration().loadChatTemplate() == nil)
        try Data("{% for m in messages %}".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try c.loadChatTemplate()
            Issue.record("a template that does not parse was accepted")
        } catch {
            #expect(error.option == "chat-template" && error.reason.contains("is not a valid chat template"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: path)
        do {
            _ = try c.loadChatTemplate()
            Issue.record("a missing file was accepted")
        } catch {
            #expect(error.reason.contains("does not exist"), "\(error)")
        }
    }
}
