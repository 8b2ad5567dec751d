/// Picks the hidden-state rows the output head runs on: every new token of every sequence, or each
/// sequence's last one. Shared by both engines so their logits rows line up with the batch.
enum HeadRows {
    /// The rows of `x` ([tokens][width]) for sequences of `counts` new tokens, packed.
    static func select(_ x: [Float], width: Int, counts: [Int], all: Bool) -> (rows: Int, values: [Float]) {
        let picked = rows(counts: counts, modes: Array(repeating: all ? .all : .last, count: counts.count))
        var selected = [Float](repeating: 0, count: picked.count * width)
        for (i, src) in picked.enumerated() {
            for d in 0..<width { selected[i * width + d] = x[src * width + d] }
        }
        return (picked.count, selected)
    }

    /// Indices of the rows each sequence asks for, in batch order: none, its last new token, or all.
    static func rows(counts: [Int], modes: [ForwardEntry.Logits]) -> [Int] {
        var rows: [Int] = []
        var r = 0
        for (n, mode) in zip(counts, modes) {
            switch mode {
            case .none: break
            case .last: rows.append(r + n - 1)
            case .all: rows.append(contentsOf: r..<(r + n))
            }
            r += n
        }
        return rows
    }
}
