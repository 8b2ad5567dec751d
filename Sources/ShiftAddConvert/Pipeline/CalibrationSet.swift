import Foundation
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTokenizer

/// The token sequences a conversion calibrates on: `count` sequences of `length` tokens.
public struct CalibrationSet: Sendable {
    public let sequences: [[Int]]

    /// Windows at seeded random offsets of a tokenized text file.
    public static func fromText(path: String, tokenizer: Tokenizer, count: Int, length: Int, seed: UInt64) throws -> CalibrationSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConversionError.calibration("\(path): cannot read the calibration text")
        }
        let tokens = tokenizer.encode(String(decoding: data, as: UTF8.self), addSpecial: false)
        guard tokens.count >= length else {
            throw ConversionError.calibration("\(path): \(tokens.count) tokens, fewer than one window of \(length)")
        }
        var rng = SeededGenerator(seed: seed)
        let sequences = (0..<count).map { _ -> [Int] in
            let start = Int(rng.next() % UInt64(tokens.count - length + 1))
            return Array(tokens[start..<(start + length)])
        }
        return CalibrationSet(sequences: sequences)
    }

    /// Sequences sampled from the model itself at temperature 1 (the `TokenSampler` of generation
    /// and the API, sequence i seeded with seed + i + 1), each started from a seeded random ordinary
    /// token, all decoded together in one batch.
    public static func sampled(from model: ReferenceModel, tokenizer: Tokenizer, count: Int, length: Int, seed: UInt64,
                               progress: (Int, Int) -> Void) -> CalibrationSet {
        var rng = SeededGenerator(seed: seed)
        let ordinary = (0..<model.config.vocabSize).filter { !tokenizer.isSpecial($0) }
        var sequences = (0..<count).map { _ in [ordinary[Int(rng.next() % UInt64(ordinary.count))]] }
        let caches = (0..<count).map { _ in model.makeCache(capacity: length) }
        let vocab = model.config.vocabSize
        var samplers = (0..<count).map { i in
            TokenSampler(parameters: SamplingParameters(temperature: 1, seed: seed &+ UInt64(i) &+ 1), vocabSize: vocab)
        }
        var step = sequences.map { $0 }
        while sequences[0].count < length {
            let logits = model.forward(Array(zip(step, caches)), allLogits: false)
            logits.withUnsafeBufferPointer { l in
                for i in 0..<count {
                    let next = samplers[i].sample(UnsafeBufferPointer(rebasing: l[(i * vocab)..<((i + 1) * vocab)]),
                                                  promptTokens: [], generated: []).token
                    sequences[i].append(next)
                    step[i] = [next]
                }
            }
            progress(sequences[0].count, length)
        }
        return CalibrationSet(sequences: sequences)
    }
}
