import ShiftAddScheduler

/// The two shapes OpenAI gives token log-probabilities in.
public enum LogprobsJSON {
    /// `/v1/completions`: parallel arrays, alternatives as a text → logprob object, and each token's
    /// offset (in Unicode scalars) into the choice's text, counting from `textOffset`. An entry with
    /// a NaN log-probability (the first prompt token) has null for both.
    public static func completion(_ entries: [TokenLogprob], textOffset: Int) -> JSONValue {
        var offsets: [JSONValue] = []
        var offset = textOffset
        for entry in entries {
            offsets.append(.int(offset))
            offset += entry.text.unicodeScalars.count
        }
        let top: [JSONValue] = entries.map { entry in
            // The first prompt token: nothing predicts it.
            if entry.logprob.isNaN { return .null }
            var seen = Set<String>()
            return .object(entry.top.compactMap { alternative in
                guard seen.insert(alternative.text).inserted else { return nil }
                return (alternative.text, .float(alternative.logprob))
            })
        }
        return .object([
            ("tokens", .array(entries.map { .string($0.text) })),
            ("token_logprobs", .array(entries.map { .float($0.logprob) })),
            ("top_logprobs", .array(top)),
            ("text_offset", .array(offsets)),
        ])
    }

    /// `/v1/chat/completions`: one object per token with its bytes and its alternatives.
    public static func chat(_ entries: [TokenLogprob]) -> JSONValue {
        .object([
            ("content", .array(entries.map { entry in
                .object([
                    ("token", .string(entry.text)),
                    ("logprob", .float(entry.logprob)),
                    ("bytes", bytes(entry.bytes)),
                    ("top_logprobs", .array(entry.top.map { alternative in
                        .object([
                            ("token", .string(alternative.text)),
                            ("logprob", .float(alternative.logprob)),
                            ("bytes", bytes(alternative.bytes)),
                        ])
                    })),
                ])
            })),
            ("refusal", .null),
        ])
    }

    private static func bytes(_ b: [UInt8]) -> JSONValue { .array(b.map { .int(Int($0)) }) }
}
