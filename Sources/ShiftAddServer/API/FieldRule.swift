/// Every top-level field of a request is read by its route, ignored because it changes nothing
/// about the answer, or refused with a 400 that names it. Docs/api.md lists them all.
enum FieldRule {
    /// Accepted and ignored: bookkeeping for OpenAI's platform (end-user ids, storage, billing
    /// tiers, prompt-cache hints; the prefix cache here is automatic).
    static let meaningless: Set<String> = [
        "user", "metadata", "store", "service_tier", "safety_identifier", "prompt_cache_key",
        "prompt_cache_retention", "prompt_cache_options",
    ]

    /// Fields of OpenAI's chat reference that would change the answer and are not implemented:
    /// any value but null (or the one harmless value given) is a 400.
    static let refusedChat: [String: String] = [
        "audio": "audio output is not supported",
        "function_call": "the deprecated functions API is not supported; use tools and tool_choice",
        "functions": "the deprecated functions API is not supported; use tools and tool_choice",
        "modalities": "only the text modality is supported",
        "moderation": "moderation is not supported",
        "prediction": "predicted outputs are not supported",
        "reasoning_effort": "the served model does not reason",
        "verbosity": "verbosity control is not supported",
        "web_search_options": "web search is not supported",
    ]

    /// Fields of OpenAI's completions reference that are not implemented.
    static let refusedCompletion: [String: String] = [
        "suffix": "suffix (insertion) is not supported",
        "best_of": "best_of above 1 is not supported; use n",
    ]

    /// Fields of `stream_options` that change nothing: the obfuscation padding is not sent.
    static let meaninglessStreamOptions: Set<String> = ["include_obfuscation"]

    /// Checks `f` against the rule: `read` holds the fields the route reads, `ignorable` those it
    /// accepts without reading. Returns the ignored fields present, for the server's debug log.
    static func check(_ f: JSONFields, read: Set<String>, refused: [String: String],
                      ignorable: Set<String> = meaningless) throws(APIError) -> [String] {
        for (key, reason) in refused.sorted(by: { $0.key < $1.key }) {
            guard let value = f.value(key), !isHarmless(key, value) else { continue }
            throw .invalid("\(f.name(key)) is not supported: \(reason)", param: f.name(key))
        }
        var ignored: [String] = []
        for key in f.values.keys.sorted() where !read.contains(key) && refused[key] == nil {
            if ignorable.contains(key) {
                ignored.append(key)
            } else {
                throw .invalid("\(f.name(key)) is not a field of this request", param: f.name(key))
            }
        }
        return ignored
    }

    /// The one value of a refused field that asks for what the server does anyway.
    private static func isHarmless(_ key: String, _ value: Any) -> Bool {
        switch key {
        case "modalities": (value as? [Any])?.allSatisfy { $0 as? String == "text" } ?? false
        case "best_of": JSONFields.integer(value) == 1
        default: false
        }
    }
}
