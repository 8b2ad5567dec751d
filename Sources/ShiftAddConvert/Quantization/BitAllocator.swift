import ShiftAddBundle

/// Chooses each projection's width for a byte budget, minimizing the summed effect on the output.
///
/// Each projection offers candidates (a width with its stored bytes and its modelled effect on the
/// output, the effects of different projections assumed to add). Every projection starts at its
/// smallest candidate; then, while the budget allows, the upgrade with the largest effect removed
/// per added byte is taken (from a projection's current candidate to any larger one, so a
/// candidate that is not worth its bytes alone is still reachable in one step). Upgrades that no
/// longer fit are skipped, smaller ones may still be taken. Ties go to the earlier projection and
/// the smaller candidate, so the result is deterministic.
public enum BitAllocator {
    public struct Candidate: Sendable, Equatable {
        public let bits: Int
        public let bytes: Int
        public let effect: Double
        public init(bits: Int, bytes: Int, effect: Double) {
            self.bits = bits
            self.bytes = bytes
            self.effect = effect
        }
    }

    /// The index of the chosen candidate of each projection. `candidates[i]` must be non-empty,
    /// sorted by bytes (strictly increasing) with finite, non-negative effects. Throws when even
    /// the smallest candidates exceed `budget`.
    public static func allocate(_ candidates: [[Candidate]], budget: Int) throws -> [Int] {
        for c in candidates {
            guard let first = c.first, first.bytes >= 0,
                  zip(c, c.dropFirst()).allSatisfy({ $0.bytes < $1.bytes }),
                  c.allSatisfy({ $0.effect.isFinite && $0.effect >= 0 }) else {
                throw QuantizationError.invalidArgument("candidates must be sorted by size with finite effects")
            }
        }
        var chosen = [Int](repeating: 0, count: candidates.count)
        var used = candidates.reduce(0) { $0 + $1[0].bytes }
        guard used <= budget else {
            throw QuantizationError.invalidArgument("the smallest widths need \(used) bytes, over the budget of \(budget)")
        }
        while true {
            var best: (projection: Int, candidate: Int, ratio: Double)?
            for (i, c) in candidates.enumerated() {
                let now = c[chosen[i]]
                for k in (chosen[i] + 1)..<c.count where used + c[k].bytes - now.bytes <= budget {
                    let ratio = (now.effect - c[k].effect) / Double(c[k].bytes - now.bytes)
                    if ratio >= 0, best == nil || ratio > best!.ratio { best = (i, k, ratio) }
                }
            }
            guard let b = best else { return chosen }
            used += candidates[b.projection][b.candidate].bytes - candidates[b.projection][chosen[b.projection]].bytes
            chosen[b.projection] = b.candidate
        }
    }

    /// Kendall's τ-b between two scorings of the same items: 1 when they rank every pair alike.
    public static func kendallTau(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        var concordant = 0.0, discordant = 0.0, tiesA = 0.0, tiesB = 0.0
        for i in a.indices {
            for j in a.indices where j > i {
                let da = (a[i] - a[j]).sign, db = (b[i] - b[j]).sign
                if a[i] == a[j], b[i] == b[j] { continue }
                if a[i] == a[j] { tiesA += 1; continue }
                if b[i] == b[j] { tiesB += 1; continue }
                if da == db { concordant += 1 } else { discordant += 1 }
            }
        }
        let n0 = concordant + discordant
        let denominator = ((n0 + tiesA) * (n0 + tiesB)).squareRoot()
        return denominator > 0 ? (concordant - discordant) / denominator : 0
    }
}
