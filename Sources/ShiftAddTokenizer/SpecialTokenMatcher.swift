/// Finds whole-token occurrences of special token texts (e.g. `<|im_start|>`) in text, leftmost first
/// and longest on ties, so the text between them can be encoded as ordinary text.
struct SpecialTokenMatcher: Sendable {
    private struct Entry: Sendable {
        var scalars: [Unicode.Scalar]
        var id: Int
    }

    enum Fragment {
        case text(Range<Int>)
        case token(Int)
    }

    /// Entries by first scalar, longest first.
    private let entries: [Unicode.Scalar: [Entry]]

    init(tokens: [String], ids: [Int]) {
        var entries: [Unicode.Scalar: [Entry]] = [:]
        for id in ids {
            let scalars = Array(tokens[id].unicodeScalars)
            guard let first = scalars.first else { continue }
            entries[first, default: []].append(Entry(scalars: scalars, id: id))
        }
        self.entries = entries.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
    }

    var isEmpty: Bool { entries.isEmpty }

    func fragments(of scalars: [Unicode.Scalar]) -> [Fragment] {
        var fragments: [Fragment] = []
        var textStart = 0
        var i = 0
        while i < scalars.count {
            if let candidates = entries[scalars[i]],
               let match = candidates.first(where: { scalars[i...].starts(with: $0.scalars) }) {
                if textStart < i { fragments.append(.text(textStart..<i)) }
                fragments.append(.token(match.id))
                i += match.scalars.count
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < scalars.count { fragments.append(.text(textStart..<scalars.count)) }
        return fragments
    }
}
