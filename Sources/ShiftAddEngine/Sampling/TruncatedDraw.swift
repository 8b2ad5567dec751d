/// One draw at a positive temperature: weights exp((logit − max) / temperature), truncated by top-k,
/// then top-p on what top-k kept, then min-p (weight ≥ minP, the most likely token weighing 1).
/// Top-p keeps the most likely tokens up to and including the one where their probabilities first
/// add up to top-p. The whole vocabulary is never sorted when top-k is small, nor when top-p needs
/// only the head of the distribution.
enum TruncatedDraw {
    /// Relative weights below which tokens are left out of successive top-p attempts, each an O(vocabulary)
    /// filter plus a sort of what passes: a peaked distribution reaches top-p within the first few tokens;
    /// 50k tokens under 1e-8 weigh under 5e-4 of the total, so only a top-p very close to 1 (or a flat
    /// distribution) needs the last attempt, which sorts everything.
    private static let headThresholds: [Float] = [1e-4, 1e-8]

    /// The token `uniform` (in [0, 1)) selects.
    static func pick(_ logits: UnsafeBufferPointer<Float>, parameters p: SamplingParameters, uniform: Double,
                     weights: inout [Float]) -> Int {
        let best = TopSelection.argmax(logits)
        let maxLogit = logits[best]
        guard maxLogit.isFinite else { return best }
        let scale = 1 / p.temperature
        // A temperature so small that its inverse overflows leaves only the most likely token.
        guard scale.isFinite else { return best }
        let minP = min(p.minP, 1)
        let topK = p.topK > 0 && p.topK < logits.count ? p.topK : 0

        // Candidates best first with their weights, and the weight of the distribution they come from.
        let kept: [Int]
        let keptWeights: [Float]
        var total = 0.0
        if topK > 0 {
            kept = TopSelection.largest(topK, of: logits)
            let keptLogits = kept.map { logits[$0] }
            var top = [Float](repeating: 0, count: kept.count)
            total = keptLogits.withUnsafeBufferPointer { values in
                top.withUnsafeMutableBufferPointer { LogitKernels.expSum(values, max: maxLogit, scale: scale, weights: $0) }
            }
            keptWeights = top
        } else {
            if weights.count != logits.count { weights = [Float](repeating: 0, count: logits.count) }
            total = weights.withUnsafeMutableBufferPointer {
                LogitKernels.expSum(logits, max: maxLogit, scale: scale, weights: $0)
            }
            if p.topP >= 1 {
                // No order is needed: draw in index order.
                let all = weights
                if minP > 0 {
                    return draw(all.indices.filter { all[$0] >= minP }, weight: { all[$0] }, uniform: uniform)
                }
                return all.withUnsafeBufferPointer { drawInOrder($0, total: total, uniform: uniform) }
            }
            kept = head(logits, weights: weights, reaching: Double(p.topP) * total)
            keptWeights = kept.map { weights[$0] }
        }

        var count = kept.count
        if p.topP < 1 {
            let target = Double(p.topP) * total
            var cumulative = 0.0
            for (i, w) in keptWeights.enumerated() {
                cumulative += Double(w)
                if cumulative >= target {
                    count = i + 1
                    break
                }
            }
        }
        if minP > 0 { count = max(1, keptWeights.prefix(count).prefix { $0 >= minP }.count) }
        return kept[draw(0..<count, weight: { keptWeights[$0] }, uniform: uniform)]
    }

    /// The most likely tokens, best first, at least up to where their weights add up to `target`.
    private static func head(_ logits: UnsafeBufferPointer<Float>, weights: [Float], reaching target: Double) -> [Int] {
        for threshold in headThresholds {
            let head = TopSelection.sorted(weights.indices.filter { weights[$0] >= threshold }, by: logits)
            var cumulative = 0.0
            for i in head {
                cumulative += Double(weights[i])
                if cumulative >= target { return head }
            }
        }
        return TopSelection.sorted(Array(weights.indices), by: logits)
    }

    /// `draw` over every index, with the total of the weights already known.
    private static func drawInOrder(_ weights: UnsafeBufferPointer<Float>, total: Double, uniform: Double) -> Int {
        var remaining = uniform * total
        var last = 0
        for i in weights.indices {
            let w = weights[i]
            guard w > 0 else { continue }
            remaining -= Double(w)
            last = i
            if remaining < 0 { return i }
        }
        return last
    }

    /// Walks `candidates` in order, taking away their weights from uniform · Σ weights until it
    /// drops below zero; the last candidate with a positive weight absorbs rounding.
    private static func draw<C: Collection<Int>>(_ candidates: C, weight: (Int) -> Float, uniform: Double) -> Int {
        var total = 0.0
        for c in candidates { total += Double(weight(c)) }
        var remaining = uniform * total
        var last = candidates.first!
        for c in candidates {
            let w = Double(weight(c))
            guard w > 0 else { continue }
            remaining -= w
            last = c
            if remaining < 0 { return c }
        }
        return last
    }
}
