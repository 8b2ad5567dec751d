import Foundation
import ShiftAddChatTemplate
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTokenizer

/// The token sequences a conversion calibrates on: `count` sequences of `length` tokens.
public struct CalibrationSet: Sendable {
    public let sequences: [[Int]]

    /// What the tokenizer puts before every text (Gemma's BOS; nothing for SmolLM2): calibration
    /// sequences start with it as served ones do, since a model trained always to see it there
    /// has quite other activations without it.
    static func opening(_ tokenizer: Tokenizer) -> [Int] { tokenizer.encode("", addSpecial: true) }

    /// Windows at seeded random offsets of a tokenized text file, after the tokenizer's opening.
    public static func fromText(path: String, tokenizer: Tokenizer, count: Int, length: Int, seed: UInt64) throws -> CalibrationSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConversionError.calibration("\(path): cannot read the calibration text")
        }
        let tokens = tokenizer.encode(String(decoding: data, as: UTF8.self), addSpecial: false)
        let opening = Self.opening(tokenizer)
        let window = length - opening.count
        guard window > 0, tokens.count >= window else {
            throw ConversionError.calibration("\(path): \(tokens.count) tokens, fewer than one window of \(length)")
        }
        var rng = SeededGenerator(seed: seed)
        let sequences = (0..<count).map { _ -> [Int] in
            let start = Int(rng.next() % UInt64(tokens.count - window + 1))
            return opening + tokens[start..<(start + window)]
        }
        return CalibrationSet(sequences: sequences)
    }

    /// How self-generated calibration samples the model.
    public struct Sampling: Sendable, Equatable {
        /// Share of the sequences that open a user turn in the model's chat format (its template's
        /// text before a user message), the rest starting from a random ordinary token.
        public var chatShare: Double = 0
        /// Temperatures, taken in turn by successive sequences.
        public var temperatures: [Float] = [1]

        public init(chatShare: Double = 0, temperatures: [Float] = [1]) {
            self.chatShare = chatShare
            self.temperatures = temperatures
        }
    }

    /// Sequences sampled from the model itself (the `TokenSampler` of generation and the API,
    /// sequence i seeded with seed + i + 1, at temperature `temperatures[i % count]`), all decoded
    /// together in one batch. The first `chatShare` of them start with `chatOpening` (when given),
    /// the others with the tokenizer's opening and a seeded random ordinary token.
    public static func sampled(from model: ReferenceModel, tokenizer: Tokenizer, count: Int, length: Int, seed: UInt64,
                               sampling: Sampling = Sampling(), chatOpening: [Int]? = nil,
                               progress: (Int, Int) -> Void) -> CalibrationSet {
        var rng = SeededGenerator(seed: seed)
        let ordinary = (0..<model.config.vocabSize).filter { !tokenizer.isSpecial($0) }
        let chatCount = chatOpening.map { $0.count < length ? Int((sampling.chatShare * Double(count)).rounded()) : 0 } ?? 0
        let opening = Self.opening(tokenizer)
        var sequences = (0..<count).map { i in
            let random = ordinary[Int(rng.next() % UInt64(ordinary.count))]
            return i < chatCount ? chatOpening! : opening + [random]
        }
        let caches = (0..<count).map { _ in model.makeCache(capacity: length) }
        let vocab = model.config.vocabSize
        var samplers = (0..<count).map { i in
            TokenSampler(parameters: SamplingParameters(temperature: sampling.temperatures[i % sampling.temperatures.count],
                                                        seed: seed &+ UInt64(i) &+ 1), vocabSize: vocab)
        }
        var step = sequences
        while let shortest = sequences.map(\.count).min(), shortest < length {
            let active = sequences.indices.filter { sequences[$0].count < length }
            let logits = model.forward(active.map { (step[$0], caches[$0]) }, allLogits: false)
            logits.withUnsafeBufferPointer { l in
                for (row, i) in active.enumerated() {
                    let next = samplers[i].sample(UnsafeBufferPointer(rebasing: l[(row * vocab)..<((row + 1) * vocab)]),
                                                  promptTokens: [], generated: []).token
                    sequences[i].append(next)
                    step[i] = [next]
                }
            }
            progress(sequences.map(\.count).min()!, length)
        }
        return CalibrationSet(sequences: sequences)
    }

    /// The tokens of `template` before a user message's content: how the model's chat format
    /// opens a user turn. Nil when the template does not render.
    public static func chatOpening(template: String, tokenizer: Tokenizer) -> [Int]? {
        let marker = "\u{1}"
        guard let parsed = try? ChatTemplate(source: template),
              let text = try? parsed.render(messages: [ChatMessage(role: "user", content: marker)], addGenerationPrompt: false),
              let end = text.range(of: marker) else { return nil }
        return tokenizer.encode(String(text[..<end.lowerBound]), addSpecial: true, parseSpecial: true)
    }
}
