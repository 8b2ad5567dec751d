/// Recognises the pre-tokenizer of a tokenizer.json and names it as GGUF's `tokenizer.ggml.pre` does.
enum HFPreTokenizer {
    /// The split patterns of the byte-level tokenizers that use an explicit `Split` step.
    static let splitPatterns: [String: String] = [
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            "llama-bpe",
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            "qwen2",
    ]

    /// The GGUF name of `pre`, or nil if it is not one the tokenizer implements.
    static func name(of pre: JSONValue?) -> String? {
        guard let pre else { return nil }
        let steps = pre["type"]?.string == "Sequence" ? pre["pretokenizers"]?.array ?? [] : [pre]
        func isByteLevel(_ step: JSONValue, regex: Bool) -> Bool {
            step["type"]?.string == "ByteLevel" && (step["use_regex"]?.bool ?? true) == regex
                && step["add_prefix_space"]?.bool != true
        }
        switch steps.count {
        case 1 where isByteLevel(steps[0], regex: true):
            return "gpt2"
        case 2 where steps[0]["type"]?.string == "Digits" && steps[0]["individual_digits"]?.bool == true
            && isByteLevel(steps[1], regex: true):
            return "smollm"
        case 2 where steps[0]["type"]?.string == "Split" && steps[0]["behavior"]?.string == "Isolated"
            && steps[0]["invert"]?.bool != true && isByteLevel(steps[1], regex: false):
            return steps[0]["pattern"]?["Regex"]?.string.flatMap { splitPatterns[$0] }
        default:
            return nil
        }
    }

    /// A short account of `pre` for error messages, e.g. `Sequence[Split, ByteLevel]`.
    static func describe(_ pre: JSONValue?) -> String {
        guard let pre, !pre.isNull else { return "none" }
        let type = pre["type"]?.string ?? pre.kind
        if type == "Sequence" {
            return "Sequence[" + (pre["pretokenizers"]?.array ?? []).map(describe).joined(separator: ", ") + "]"
        }
        if type == "Split", let regex = pre["pattern"]?["Regex"]?.string ?? pre["pattern"]?["String"]?.string {
            return "Split(\(regex))"
        }
        return type
    }
}
