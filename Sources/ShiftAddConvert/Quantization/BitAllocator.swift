import ShiftAddBundle

/// Chooses a bit width per layer for a target average counted over parameters.
///
/// Allocations are monotone in the sensitivity score: layers are ranked by score (ties by
/// index) and each bit level goes to a contiguous run of that ranking, so a layer never gets
/// fewer bits than a less sensitive one. Among those allocations whose parameter-weighted
/// average does not exceed the target, the one closest to the target is chosen; ties go to the
/// smallest modelled error Σ score · 4^(−bits) (quantization noise falls fourfold per bit), then to
/// the first in enumeration order. All sums are exact, so the result is deterministic.
public enum BitAllocator {
    public struct Layer: Sendable, Equatable {
        public let parameterCount: Int
        public let score: Double
        public init(parameterCount: Int, score: Double) {
            self.parameterCount = parameterCount
            self.score = score
        }
    }

    public struct Allocation: Sendable, Equatable {
        /// Bits per layer, in the input order.
        public let bits: [Int]
        /// Σ parameters · bits / Σ parameters.
        public let averageBits: Double
    }

    /// `levels`: the allowed widths (distinct, 1...8); `targetAverageBits` must be at least the
    /// smallest of them.
    public static func allocate(_ layers: [Layer], targetAverageBits: Double,
                                levels: [Int] = [2, 3, 4]) throws -> Allocation {
        let levels = levels.sorted()
        guard let lowest = levels.first, Set(levels).count == levels.count, levels.allSatisfy({ (1...8).contains($0) }) else {
            throw QuantizationError.invalidArgument("bit levels \(levels)")
        }
        guard targetAverageBits.isFinite, targetAverageBits >= Double(lowest) else {
            throw QuantizationError.invalidArgument("target \(targetAverageBits) bits below the lowest level \(lowest)")
        }
        guard layers.allSatisfy({ $0.parameterCount > 0 && $0.score.isFinite }) else {
            throw QuantizationError.invalidArgument("layer with no parameters or a non-finite score")
        }
        guard !layers.isEmpty else { return Allocation(bits: [], averageBits: 0) }

        let order = layers.indices.sorted { a, b in
            layers[a].score != layers[b].score ? layers[a].score > layers[b].score : a < b
        }
        // Prefix sums over the ranking: parameters and scores of the top k layers.
        var params = [Int](repeating: 0, count: layers.count + 1)
        var scores = [Double](repeating: 0, count: layers.count + 1)
        for (k, i) in order.enumerated() {
            params[k + 1] = params[k] + layers[i].parameterCount
            scores[k + 1] = scores[k] + layers[i].score
        }
        let total = params[layers.count]
        let budget = targetAverageBits * Double(total) * (1 + 1e-12)
        func noise(_ bits: Int) -> Double { Double(sign: .plus, exponent: -2 * bits, significand: 1) }

        // cuts[k] = number of top-ranked layers with at least levels[k + 1] bits (non-increasing).
        var cuts = [Int](repeating: 0, count: levels.count - 1)
        var best: (cuts: [Int], used: Int, error: Double)?
        func search(_ k: Int, _ limit: Int, _ used: Int, _ error: Double) {
            if k == cuts.count {
                guard Double(used) <= budget else { return }
                if let b = best, used < b.used || (used == b.used && error >= b.error) { return }
                best = (cuts, used, error)
                return
            }
            let step = levels[k + 1] - levels[k]
            let gain = noise(levels[k + 1]) - noise(levels[k])
            for c in 0...limit {
                let u = used + step * params[c]
                // Deeper levels only add bits: stop once this one alone exceeds the budget.
                if Double(u) > budget { break }
                cuts[k] = c
                search(k + 1, c, u, error + gain * scores[c])
            }
        }
        search(0, layers.count, lowest * total, noise(lowest) * scores[layers.count])
        guard let chosen = best else {
            throw QuantizationError.invalidArgument("no allocation fits \(targetAverageBits) bits")
        }
        var bits = [Int](repeating: lowest, count: layers.count)
        for (k, cut) in chosen.cuts.enumerated() {
            for position in 0..<cut { bits[order[position]] = levels[k + 1] }
        }
        return Allocation(bits: bits, averageBits: Double(chosen.used) / Double(total))
    }
}
