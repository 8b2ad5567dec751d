import Foundation

/// A small deterministic generator (xoshiro256**) so that a seed gives the same tokens on every
/// machine and run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// A uniform Double in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// Picks the next token from logits: greedy at temperature 0, else softmax sampling restricted by
/// top-k and top-p.
public struct Sampler: Sendable {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    private var generator: SeededGenerator

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        generator = SeededGenerator(seed: seed)
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        if temperature <= 0 { return Self.argmax(logits) }
        if topK == 0, topP >= 1 { return sampleAll(logits) }
        var candidates = Array(logits.indices)
        candidates.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if topK > 0 { candidates = Array(candidates.prefix(topK)) }
        let top = logits[candidates[0]]
        var probabilities = candidates.map { Double(Foundation.exp((logits[$0] - top) / temperature)) }
        let total = probabilities.reduce(0, +)
        var kept = probabilities.count
        if topP < 1 {
            var cumulative = 0.0
            for (i, p) in probabilities.enumerated() {
                cumulative += p / total
                if cumulative >= Double(topP) { kept = i + 1; break }
            }
        }
        probabilities = Array(probabilities.prefix(kept))
        var r = generator.nextUnit() * probabilities.reduce(0, +)
        for (i, p) in probabilities.enumerated() {
            r -= p
            if r < 0 { return candidates[i] }
        }
        return candidates[kept - 1]
    }

    /// Plain softmax sampling over every token, with no sort.
    private mutating func sampleAll(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let top = logits[Self.argmax(logits)]
        var total = 0.0
        for v in logits { total += Double(Foundation.exp((v - top) / temperature)) }
        var r = generator.nextUnit() * total
        for (i, v) in logits.enumerated() {
            r -= Double(Foundation.exp((v - top) / temperature))
            if r < 0 { return i }
        }
        return Self.argmax(logits)
    }

    /// The first index of the largest value.
    public static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
