import Foundation
import ShiftAddChatTemplate

extension ServerConfiguration {
    /// The keys in `apiKeysFile`: one per line, surrounding whitespace trimmed, blank lines and
    /// lines starting with # skipped. Empty when no file is configured. Errors never quote the
    /// file's contents, so a key cannot leak into logs.
    public func loadAPIKeys() throws(ConfigurationError) -> [String] {
        guard let path = apiKeysFile else { return [] }
        let option = ServerOption.apiKeysFile
        func failure(_ reason: String) -> ConfigurationError {
            ConfigurationError(option: option.rawValue, origin: .default, value: nil, reason: "file \(path) \(reason)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw failure("is not UTF-8 text") }
        let keys = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !keys.isEmpty else { throw failure("holds no keys; remove the option to serve without keys") }
        if let index = keys.firstIndex(where: { key in key.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x21 || $0.value == 0x7F } }) {
            throw failure("has a key with spaces or control characters (key \(index + 1))")
        }
        return keys
    }
}

extension ServerConfiguration {
    /// The template in the file `chatTemplate` names, checked to parse; nil when no file is
    /// configured (the model's own template serves then).
    public func loadChatTemplate() throws(ConfigurationError) -> String? {
        guard let path = chatTemplate else { return nil }
        func failure(_ reason: String) -> ConfigurationError {
            ConfigurationError(option: ServerOption.chatTemplate.rawValue, origin: .default, value: nil, reason: "file \(path) \(reason)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist")
        }
        guard let source = String(data: data, encoding: .utf8) else { throw failure("is not UTF-8 text") }
        do {
            _ = try ChatTemplate(source: source)
        } catch {
            throw failure("is not a valid chat template: \(error)")
        }
        return source
    }
}
