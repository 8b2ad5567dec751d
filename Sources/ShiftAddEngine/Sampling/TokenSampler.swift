/// Per-request sampling state: penalties, temperature, top-k/top-p/min-p, seeded draw, logprobs.
///
/// The one sampler: `shiftadd generate` (through `DecodingSession.generate`), the scheduler behind
/// the HTTP API and the converter's self-calibration all draw through it, so a seed picks the same
/// tokens from the same logits wherever it is given.
///
/// Each step runs: penalties on a copy of the logits (repetition, then frequency and presence),
/// then the logit biases added;
/// at temperature 0 the first largest logit wins; otherwise the logits are divided by the temperature,
/// truncated by top-k, then top-p (on the top-k distribution), then min-p (p ≥ minP · p_max), and one
/// uniform number from the request's own generator picks among the rest. The same seed, logits and
/// parameters always give the same token, whatever else runs in the batch. Logits from index
/// `vocabSize` on (padding rows of an output head) are never chosen.
public struct TokenSampler: Sendable {
    public let parameters: SamplingParameters
    public let vocabSize: Int
    private let penalties: Penalties
    /// `parameters.logitBias` for the ids inside the vocabulary.
    private let bias: [(token: Int, value: Float)]
    private var generator: SeededGenerator
    /// Vocabulary-sized scratch, allocated on first use and reused every step.
    private var penalised: [Float] = []
    private var counts: [Int32] = []
    private var weights: [Float] = []

    public init(parameters: SamplingParameters, vocabSize: Int) {
        // Token ids are packed into 32 bits when sorted.
        precondition(vocabSize > 0 && vocabSize <= Int(UInt32.max), "vocabulary of \(vocabSize) tokens")
        self.parameters = parameters
        self.vocabSize = vocabSize
        penalties = Penalties(repetition: parameters.repetitionPenalty, presence: parameters.presencePenalty,
                              frequency: parameters.frequencyPenalty)
        bias = parameters.logitBias.filter { $0.key >= 0 && $0.key < vocabSize }.sorted { $0.key < $1.key }
            .map { (token: $0.key, value: $0.value) }
        generator = SeededGenerator(seed: parameters.seed ?? UInt64.random(in: .min ... .max))
    }

    /// `promptTokens` and `generated` are for the penalties. Returns the chosen token and, when
    /// parameters.logprobs != nil, its log-probability and the top alternatives (log-softmax of the
    /// logits after penalties and biases, before temperature and truncation).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, promptTokens: [Int], generated: [Int]) -> SampledToken {
        precondition(logits.count >= vocabSize, "\(logits.count) logits for a vocabulary of \(vocabSize)")
        let raw = UnsafeBufferPointer(rebasing: logits[..<vocabSize])
        guard penalties.isActive || !bias.isEmpty else { return choose(raw) }
        if penalised.count != vocabSize {
            penalised = [Float](repeating: 0, count: vocabSize)
            counts = [Int32](repeating: 0, count: vocabSize)
        }
        var scratch: [Float] = []
        swap(&scratch, &penalised)
        scratch.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: raw.baseAddress!, count: vocabSize) }
        penalties.apply(to: &scratch, promptTokens: promptTokens, generated: generated, counts: &counts)
        for (token, value) in bias { scratch[token] += value }
        let result = scratch.withUnsafeBufferPointer { choose($0) }
        swap(&scratch, &penalised)
        return result
    }

    private mutating func choose(_ logits: UnsafeBufferPointer<Float>) -> SampledToken {
        let token: Int
        if parameters.temperature > 0 {
            let uniform = generator.nextUnit()
            token = TruncatedDraw.pick(logits, parameters: parameters, uniform: uniform, weights: &weights)
        } else {
            token = TopSelection.argmax(logits)
        }
        guard let count = parameters.logprobs else { return SampledToken(token: token, logprob: nil, top: []) }
        return LogSoftmax.sampledToken(token, alternatives: count, logits: logits)
    }
}
