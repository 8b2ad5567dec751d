import Foundation
import ShiftAddServer
import Testing

/// Bad settings stop start-up with the option, where the value came from and why it was refused.
@Suite struct ConfigurationErrorTests {
    struct BadValue: Sendable, CustomStringConvertible {
        let option: String
        /// A refused value for a flag and an environment variable; nil where any text is accepted (paths).
        let text: String?
        /// A refused value in the config file, as a JSON literal.
        let json: String
        let reason: String
        var description: String { option }
    }

    static let badValues: [BadValue] = [
        .init(option: "host", text: "two words", json: #""""#, reason: "is not a host address"),
        .init(option: "port", text: "abc", json: "70000", reason: "is not an integer between 0 and 65535"),
        .init(option: "tls-port", text: "-1", json: #""x""#, reason: "is not an integer between 0 and 65535"),
        .init(option: "tls-cert", text: nil, json: "true", reason: "is not a path"),
        .init(option: "tls-key", text: nil, json: "{}", reason: "is not a path"),
        .init(option: "api-keys-file", text: nil, json: "[1]", reason: "is not a path"),
        .init(option: "model", text: nil, json: "false", reason: "is not a path"),
        .init(option: "model-id", text: "my model", json: #""with space""#, reason: "is not a model name"),
        .init(option: "chat-template", text: nil, json: "[]", reason: "is not a path"),
        .init(option: "bundle-cache", text: nil, json: "true", reason: "is not a path"),
        .init(option: "threads", text: "many", json: "-1", reason: "is not an integer between 0 and 1024"),
        .init(option: "max-batch-tokens", text: "0", json: "1.5", reason: "is not an integer between 1 and 65536"),
        .init(option: "kv-cache-memory", text: "512", json: #""2 GB""#, reason: "is not a size between 1MiB and 1TiB"),
        .init(option: "max-queued", text: "0", json: #""ten""#, reason: "is not an integer between 1 and 1000000"),
        .init(option: "max-running", text: "5000", json: "null", reason: "is not an integer between 1 and 4096"),
        .init(option: "max-choices", text: "0", json: "null", reason: "is not an integer between 1 and 128"),
        .init(option: "context-limit", text: "0", json: #""x""#, reason: "is not an integer between 1 and 1048576"),
        .init(option: "drain-timeout", text: "-5s", json: #""1d""#, reason: "is not a duration between 0s and 86400s"),
        .init(option: "cors-origins", text: "example.com", json: #"["https://a.example/path"]"#, reason: "is not a list of origins"),
        .init(option: "log-level", text: "verbose", json: #""WARN""#, reason: "is not one of debug, info, warning, error"),
        .init(option: "log-format", text: "xml", json: "1", reason: "is not one of text, json"),
        .init(option: "max-body-bytes", text: "2GiB", json: #""0""#, reason: "is not a size between 1KiB and 1GiB"),
        .init(option: "max-header-bytes", text: "10", json: #""1.5.5KiB""#, reason: "is not a size between 1KiB and 1MiB"),
        .init(option: "max-connections", text: "0", json: "true", reason: "is not an integer between 1 and 1000000"),
        .init(option: "max-concurrent-streams", text: "1e3", json: "0", reason: "is not an integer between 1 and 65536"),
        .init(option: "header-timeout", text: "0", json: #""-1""#, reason: "is not a duration between 1ms and 3600s"),
        .init(option: "idle-timeout", text: "forever", json: "0", reason: "is not a duration between 1ms and 86400s"),
    ]

    /// Runs `load` and returns the error it must throw.
    static func failure(_ arguments: [String], _ environment: [String: String] = [:]) -> ConfigurationError? {
        do {
            _ = try ServerConfiguration.load(arguments: arguments, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func messageNamesOptionValueSourceAndReason() throws {
        let error = try #require(Self.failure([], ["SHIFTADD_PORT": "abc"]))
        #expect(error.description == #"port: "abc" from SHIFTADD_PORT is not an integer between 0 and 65535"#)
        #expect(error.option == "port" && error.source == "environment" && error.value == "abc")
    }

    @Test func everyOptionHasABadValueTable() {
        #expect(Set(Self.badValues.map(\.option)) == Set(ServerOption.allCases.map(\.rawValue)))
    }

    @Test(arguments: badValues.filter { $0.text != nil })
    func badFlagValue(_ bad: BadValue) throws {
        let error = try #require(Self.failure(["--" + bad.option, bad.text!]))
        #expect(error.option == bad.option && error.source == "flag" && error.value == bad.text)
        #expect(error.description == "\(bad.option): \"\(bad.text!)\" from --\(bad.option) " + error.reason)
        #expect(error.reason.hasPrefix(bad.reason))
    }

    @Test(arguments: badValues.filter { $0.text != nil })
    func badEnvironmentValue(_ bad: BadValue) throws {
        let name = "SHIFTADD_" + bad.option.uppercased().replacingOccurrences(of: "-", with: "_")
        let error = try #require(Self.failure([], [name: bad.text!]))
        #expect(error.option == bad.option && error.source == "environment" && error.value == bad.text)
        #expect(error.description.hasPrefix("\(bad.option): \"\(bad.text!)\" from \(name) \(bad.reason)"))
    }

    @Test(arguments: badValues)
    func badFileValue(_ bad: BadValue) throws {
        let key = bad.option.replacingOccurrences(of: "-", with: "_")
        let path = try ConfigurationSourceTests.writeConfig("{\"\(key)\": \(bad.json)}")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(Self.failure(["--config", path]))
        #expect(error.option == bad.option && error.source == "file")
        #expect(error.description.contains("from key \"\(key)\" of \(path) \(bad.reason)"), "\(error)")
    }

    @Test func overriddenBadValueIsStillReported() throws {
        let path = try ConfigurationSourceTests.writeConfig(#"{"port": "eighty"}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(Self.failure(["--port", "80", "--config", path]))
        #expect(error.option == "port" && error.source == "file" && error.value == "eighty")
    }

    @Test func unknownFileKeyIsNamed() throws {
        let path = try ConfigurationSourceTests.writeConfig(#"{"port": 1, "prot": 2}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(Self.failure(["--config", path]))
        #expect(error.option == "prot" && error.source == "file")
        #expect(error.description.hasPrefix("prot: unknown key in \(path)"))
    }

    @Test func unreadableOrMalformedConfigFile() throws {
        let missing = try #require(Self.failure([], ["SHIFTADD_CONFIG": "/nonexistent/shiftadd.json"]))
        #expect(missing.description == #"config: "/nonexistent/shiftadd.json" from SHIFTADD_CONFIG does not exist"#)
        let broken = try ConfigurationSourceTests.writeConfig(#"{"port": 80,"#)
        let list = try ConfigurationSourceTests.writeConfig(#"[{"port": 80}]"#)
        defer { for p in [broken, list] { try? FileManager.default.removeItem(atPath: p) } }
        let invalid = try #require(Self.failure(["--config", broken]))
        #expect(invalid.option == "config" && invalid.source == "flag" && invalid.reason.hasPrefix("is not valid JSON"))
        let notObject = try #require(Self.failure(["--config", list]))
        #expect(notObject.option == "config" && notObject.reason == "is not a JSON object of settings")
    }

    @Test func badCommandLines() throws {
        let unknown = try #require(Self.failure(["--prot", "1"]))
        #expect(unknown.option == "prot" && unknown.source == "flag" && unknown.description.contains("unknown flag --prot"))
        let noValue = try #require(Self.failure(["--port"]))
        #expect(noValue.description == "port: --port needs a value")
        let positional = try #require(Self.failure(["model.gguf"]))
        #expect(positional.option == "model.gguf" && positional.reason.hasPrefix("unexpected argument"))
        #expect(ServerConfiguration.helpRequested(["--port", "1", "--help"]) && !ServerConfiguration.helpRequested(["--port", "1"]))
    }

    @Test func tlsSettingsGoTogether() throws {
        let error = try #require(Self.failure(["--tls-cert", "c.pem"], ["SHIFTADD_TLS_PORT": "8443"]))
        #expect(error.option == "tls-key" && error.description.contains("tls-port is set by SHIFTADD_TLS_PORT"))
        let samePort = try #require(Self.failure(["--port", "8443", "--tls-port", "8443", "--tls-cert", "c", "--tls-key", "k"]))
        #expect(samePort.option == "tls-port" && samePort.source == "flag" && samePort.reason.contains("same as port"))
    }
}
