import Foundation
import ShiftAddTokenizer

/// The tokenizer and chat template of a Hugging Face checkpoint directory, from tokenizer.json,
/// tokenizer_config.json, generation_config.json and chat_template.jinja.
struct HFTokenizer {
    var spec: TokenizerSpec?
    /// Why `spec` is nil, for the error raised when a tokenizer is needed.
    var unsupportedReason: String?
    var chatTemplate: String?
    /// Every end-of-sequence id generation_config.json lists, when it lists more than one.
    var eosTokenIds: [Int] = []

    init(directory: String, vocabSize: Int) throws {
        let settings = try Self.optionalJSON(directory + "/tokenizer_config.json")
        chatTemplate = try Self.chatTemplate(settings, directory: directory)

        let tokenizerPath = directory + "/tokenizer.json"
        guard let tokenizer = try Self.optionalJSON(tokenizerPath) else {
            unsupportedReason = "\(directory) has no tokenizer.json"
            return
        }
        let model = tokenizer["model"]
        let preTokenizer = tokenizer["pre_tokenizer"]
        guard model?["type"]?.string == "BPE", model?["byte_fallback"]?.bool != true,
              let preName = HFPreTokenizer.name(of: preTokenizer) else {
            let kind = model?["type"]?.string ?? "unknown"
            let fallback = model?["byte_fallback"]?.bool == true ? " with byte fallback" : ""
            unsupportedReason = "\(tokenizerPath): unsupported tokenizer (model \(kind)\(fallback), pre_tokenizer "
                + "\(HFPreTokenizer.describe(preTokenizer))); supported are byte-level BPE with the "
                + "gpt2, smollm, llama-bpe or qwen2 pre-tokenizer"
            return
        }
        var spec = try Self.vocabulary(tokenizer, path: tokenizerPath, vocabSize: vocabSize)
        spec.preTokenizer = preName
        try Self.applySpecialTokens(settings, tokenizer: tokenizer, to: &spec, directory: directory)
        if let ids = try Self.generationEOS(directory + "/generation_config.json", vocabSize: spec.tokens.count) {
            // generation_config.json is what generation stops on; keep the tokenizer's eos if it is one of them.
            if !(spec.eosTokenId.map(ids.contains) ?? false) { spec.eosTokenId = ids.first }
            if ids.count > 1 { eosTokenIds = ids }
        }
        self.spec = spec
    }

    static func optionalJSON(_ path: String) throws -> JSONValue? {
        FileManager.default.fileExists(atPath: path) ? try JSONValue.parse(path: path) : nil
    }

    /// Tokens in id order (padded to the model's vocabulary with unused `[PADn]` entries), token
    /// types and merges.
    static func vocabulary(_ json: JSONValue, path: String, vocabSize: Int) throws -> TokenizerSpec {
        func malformed(_ reason: String) -> ModelError { .malformed(file: path, reason: reason) }
        guard let vocab = json["model"]?["vocab"]?.object else { throw malformed("model.vocab is not an object") }
        var tokens = [String?](repeating: nil, count: vocabSize)
        var types = [TokenizerSpec.TokenType](repeating: .normal, count: vocabSize)
        func place(_ token: String, id: JSONValue?, where context: String) throws -> Int {
            guard let id = id?.int, id >= 0 else { throw malformed("\(context) '\(token)' has no valid id") }
            guard id < vocabSize else {
                throw malformed("\(context) '\(token)' has id \(id), beyond the model's vocabulary of \(vocabSize)")
            }
            if let existing = tokens[id], existing != token {
                throw malformed("id \(id) is both '\(existing)' and '\(token)'")
            }
            tokens[id] = token
            return id
        }
        for (token, id) in vocab { _ = try place(token, id: id, where: "vocab entry") }
        for entry in json["added_tokens"]?.array ?? [] {
            guard let content = entry["content"]?.string else { throw malformed("an added token has no content") }
            let id = try place(content, id: entry["id"], where: "added token")
            types[id] = entry["special"]?.bool == true ? .control : .userDefined
        }
        for id in tokens.indices where tokens[id] == nil {
            tokens[id] = "[PAD\(id)]"
            types[id] = .unused
        }

        guard let mergeList = json["model"]?["merges"]?.array else { throw malformed("model.merges is not an array") }
        let merges = try mergeList.enumerated().map { index, merge -> String in
            if let text = merge.string, text.split(separator: " ", omittingEmptySubsequences: false).count == 2 {
                return text
            }
            if let pair = merge.array, pair.count == 2, let left = pair[0].string, let right = pair[1].string {
                return left + " " + right
            }
            throw malformed("merge \(index) is neither \"left right\" nor [left, right]")
        }
        var spec = TokenizerSpec(model: .byteLevelBPE, tokens: tokens.map { $0! }, tokenTypes: types, merges: merges)
        spec.unknownTokenId = try json["model"]?["unk_token"]?.string.map { try id(of: $0, in: spec, file: path) }
        return spec
    }

    static func id(of token: String, in spec: TokenizerSpec, file: String) throws -> Int {
        guard let id = spec.tokens.firstIndex(of: token) else {
            throw ModelError.malformed(file: file, reason: "token '\(token)' is not in the vocabulary")
        }
        return id
    }

    /// bos/eos/pad/unk and add_bos/add_eos from tokenizer_config.json; without add_bos_token, a
    /// post-processor template that starts with the bos token turns it on.
    static func applySpecialTokens(_ settings: JSONValue?, tokenizer: JSONValue, to spec: inout TokenizerSpec,
                                   directory: String) throws {
        let path = directory + "/tokenizer_config.json"
        func token(_ key: String) throws -> Int? {
            guard let value = settings?[key], !value.isNull else { return nil }
            guard let content = value.string ?? value["content"]?.string else {
                throw ModelError.malformed(file: path, reason: "\(key) is neither a string nor {content}")
            }
            return try id(of: content, in: spec, file: path)
        }
        spec.bosTokenId = try token("bos_token")
        spec.eosTokenId = try token("eos_token")
        spec.paddingTokenId = try token("pad_token")
        spec.unknownTokenId = try token("unk_token") ?? spec.unknownTokenId
        spec.addBosToken = settings?["add_bos_token"]?.bool
            ?? (spec.bosTokenId.map { templateStarts(with: spec.tokens[$0], tokenizer["post_processor"]) } ?? false)
        spec.addEosToken = settings?["add_eos_token"]?.bool ?? false
    }

    /// Whether a TemplateProcessing post-processor (alone or in a Sequence) puts `token` first.
    static func templateStarts(with token: String, _ processor: JSONValue?) -> Bool {
        guard let processor else { return false }
        if processor["type"]?.string == "Sequence" {
            return (processor["processors"]?.array ?? []).contains { templateStarts(with: token, $0) }
        }
        guard processor["type"]?.string == "TemplateProcessing" else { return false }
        return processor["single"]?.array?.first?["SpecialToken"]?["id"]?.string == token
    }

    /// The template string, the "default" one of a named list, or chat_template.jinja.
    static func chatTemplate(_ settings: JSONValue?, directory: String) throws -> String? {
        switch settings?["chat_template"] {
        case .string(let template)?:
            return template
        case .array(let named)?:
            return named.first { $0["name"]?.string == "default" }?["template"]?.string
        default:
            let path = directory + "/chat_template.jinja"
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            let file = try MappedFile(path: path)
            guard let text = String(validating: UnsafeRawBufferPointer(start: file.base, count: file.count),
                                    as: UTF8.self) else {
                throw ModelError.malformed(file: path, reason: "not valid UTF-8")
            }
            return text
        }
    }

    /// generation_config.json's eos_token_id, a number or a list.
    static func generationEOS(_ path: String, vocabSize: Int) throws -> [Int]? {
        guard let value = try optionalJSON(path)?["eos_token_id"], !value.isNull else { return nil }
        let ids = value.int.map { [$0] } ?? value.array?.compactMap(\.int)
        guard let ids, !ids.isEmpty, ids.count == (value.array?.count ?? 1),
              ids.allSatisfy({ (0..<vocabSize).contains($0) }) else {
            throw ModelError.malformed(file: path, reason: "eos_token_id must be token ids below \(vocabSize)")
        }
        return ids
    }
}
