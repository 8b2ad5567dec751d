import Foundation
import ShiftAddChatTemplate

/// The options that name files: each file is read once, at start, and checked.
extension ServerConfiguration {
    /// The keys in `apiKeysFile`: one per line, surrounding whitespace trimmed, blank lines and
    /// lines starting with # skipped. Empty when no file is configured. Errors never quote the
    /// file's contents, so a key cannot leak into logs.
    public func loadAPIKeys() throws(ConfigurationError) -> [String] {
        guard let path = apiKeysFile else { return [] }
        let file = OptionFile(option: .apiKeysFile, path: path)
        let keys = try file.text().split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !keys.isEmpty else { throw file.failure("holds no keys; remove the option to serve without keys") }
        if let index = keys.firstIndex(where: { key in key.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x21 || $0.value == 0x7F } }) {
            throw file.failure("has a key with spaces or control characters (key \(index + 1))")
        }
        return keys
    }

    /// The template in the file `chatTemplate` names, checked to parse; nil when no file is
    /// configured (the model's own template serves then).
    public func loadChatTemplate() throws(ConfigurationError) -> String? {
        guard let path = chatTemplate else { return nil }
        let file = OptionFile(option: .chatTemplate, path: path)
        let source = try file.text()
        do {
            _ = try ChatTemplate(source: source)
        } catch {
            throw file.failure("is not a valid chat template: \(error)")
        }
        return source
    }
}

/// A file an option names, with errors that name the option and the path (never the contents).
private struct OptionFile {
    let option: ServerOption
    let path: String

    func failure(_ reason: String) -> ConfigurationError {
        ConfigurationError(option: option.rawValue, origin: .default, value: nil, reason: "file \(path) \(reason)")
    }

    /// The file's text, which must exist, be readable and be UTF-8.
    func text() throws(ConfigurationError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw failure("is not UTF-8 text") }
        return text
    }
}
