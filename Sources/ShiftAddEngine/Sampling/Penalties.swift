/// Repetition, presence and frequency penalties, applied to a copy of the logits in that order.
struct Penalties: Sendable {
    /// Hugging Face convention, over every distinct prompt and generated token: a positive logit is
    /// divided by the penalty, a negative one multiplied.
    let repetition: Float
    /// OpenAI convention, over generated tokens: logit -= count * frequency + (count > 0 ? presence : 0).
    let presence: Float
    let frequency: Float

    var isActive: Bool { repetition != 1 || presence != 0 || frequency != 0 }

    /// Penalises `logits` in place. `counts` is vocabulary-sized scratch that is all zero on entry and
    /// left all zero; tokens outside the vocabulary are ignored.
    func apply(to logits: inout [Float], promptTokens: [Int], generated: [Int], counts: inout [Int32]) {
        let vocabulary = 0..<logits.count
        if repetition != 1 {
            for tokens in [promptTokens, generated] {
                for t in tokens where vocabulary.contains(t) && counts[t] == 0 {
                    counts[t] = 1
                    let v = logits[t]
                    logits[t] = v > 0 ? v / repetition : v * repetition
                }
            }
            for tokens in [promptTokens, generated] {
                for t in tokens where vocabulary.contains(t) { counts[t] = 0 }
            }
        }
        if presence != 0 || frequency != 0 {
            for t in generated where vocabulary.contains(t) { counts[t] += 1 }
            for t in generated where vocabulary.contains(t) && counts[t] > 0 {
                logits[t] -= Float(counts[t]) * frequency + presence
                counts[t] = 0
            }
        }
    }
}
