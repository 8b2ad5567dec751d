import Foundation
import ShiftAddEngine

/// One sampling step over an array of logits.
func sample(_ sampler: inout TokenSampler, _ logits: [Float], prompt: [Int] = [], generated: [Int] = []) -> SampledToken {
    logits.withUnsafeBufferPointer { sampler.sample($0, promptTokens: prompt, generated: generated) }
}

/// Logits for a vocabulary, roughly normal with standard deviation `spread`, rounded to 1/8 so that ties occur.
func randomLogits(count: Int, seed: UInt64, spread: Float = 3) -> [Float] {
    var random = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        let u1 = max(random.nextUnit(), 1e-12), u2 = random.nextUnit()
        let normal = Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
        return (normal * spread * 8).rounded() / 8
    }
}

/// log-softmax computed directly, in Double.
func directLogSoftmax(_ logits: [Float]) -> [Double] {
    let top = Double(logits.max()!)
    let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - top) }
    return logits.map { Double($0) - top - Foundation.log(total) }
}

/// Token ids ordered by logit, largest first, equal logits by lower id (a full sort).
func rankedTokens(_ logits: [Float]) -> [Int] {
    logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
}

/// Which tokens `draws` samples picked, counted per token.
func drawCounts(_ parameters: SamplingParameters, _ logits: [Float], draws: Int) -> [Int: Int] {
    var sampler = TokenSampler(parameters: parameters, vocabSize: logits.count)
    var counts: [Int: Int] = [:]
    for _ in 0..<draws { counts[sample(&sampler, logits).token, default: 0] += 1 }
    return counts
}

/// Logits whose softmax at temperature 1 is `probabilities`.
func logits(for probabilities: [Double]) -> [Float] { probabilities.map { Float(Foundation.log($0)) } }
