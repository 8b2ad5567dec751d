/// GPT-2 style BPE over the bytes of one word: start from one token per byte, then repeatedly apply the
/// merge with the lowest rank among adjacent pairs (leftmost first on ties), as Hugging Face `tokenizers` does.
struct ByteLevelBPE: Sendable {
    /// `pairKey(left, right)` → `rank << 32 | merged id`.
    private let merges: [UInt64: UInt64]
    /// Token of each single byte, -1 where the vocabulary lacks it (such bytes are dropped).
    private let byteTokens: [Int32]
    /// Raw bytes → id for every token, consulted first when whole-word tokens bypass the merges.
    private let wholeWords: [ArraySlice<UInt8>: Int32]?

    init(tokens: [String], ids: TokenTextIndex, merges mergeLines: [String], ignoresMerges: Bool)
        throws(TokenizerError) {
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            // Split at the first space after the first character, so a left side may itself start with one.
            guard let space = line.unicodeScalars.dropFirst().firstIndex(of: " ") else {
                throw .malformedMerge(index: rank, merge: line)
            }
            let left = String(line.unicodeScalars[..<space])
            let right = String(line.unicodeScalars[line.unicodeScalars.index(after: space)...])
            var found: [Int] = []
            for piece in [left, right, left + right] {
                guard let id = ids[piece] else {
                    throw .mergeTokenNotInVocabulary(index: rank, merge: line, token: piece)
                }
                found.append(id)
            }
            // A repeated pair keeps its first, highest-priority rank.
            let key = Self.pairKey(Int32(found[0]), Int32(found[1]))
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(found[2]) }
        }
        self.merges = merges
        byteTokens = ByteLevelAlphabet.characters.map { character in
            ids[String(character)].map { Int32($0) } ?? -1
        }
        if ignoresMerges {
            var words: [ArraySlice<UInt8>: Int32] = [:]
            for (id, token) in tokens.enumerated() {
                guard let raw = ByteLevelAlphabet.decode(token) else { continue }
                if words[raw[...]] == nil { words[raw[...]] = Int32(id) }
            }
            wholeWords = words
        } else {
            wholeWords = nil
        }
    }

    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Scratch arrays reused across the words of one encode call.
    struct Workspace {
        fileprivate var ids: [Int32] = []
        fileprivate var previous: [Int32] = []
        fileprivate var next: [Int32] = []
        fileprivate var queue = BinaryHeap<Candidate>()
    }

    fileprivate struct Candidate: Comparable {
        var rank: UInt32
        var position: Int32
        var merged: Int32

        static func < (a: Candidate, b: Candidate) -> Bool {
            (a.rank, a.position) < (b.rank, b.position)
        }
    }

    /// Appends the tokens of one pre-tokenized word, given as raw UTF-8 bytes.
    func encode(word: ArraySlice<UInt8>, into output: inout [Int], workspace w: inout Workspace) {
        if let wholeWords, let id = wholeWords[word] {
            output.append(Int(id))
            return
        }
        w.ids.removeAll(keepingCapacity: true)
        for byte in word where byteTokens[Int(byte)] >= 0 { w.ids.append(byteTokens[Int(byte)]) }
        let count = w.ids.count
        guard count > 1 else {
            output.append(contentsOf: w.ids.lazy.map { Int($0) })
            return
        }
        w.previous.removeAll(keepingCapacity: true)
        w.next.removeAll(keepingCapacity: true)
        for i in 0..<count {
            w.previous.append(Int32(i - 1))
            w.next.append(i + 1 < count ? Int32(i + 1) : -1)
        }
        w.queue.removeAll()
        for i in 0..<(count - 1) { enqueue(Int32(i), &w) }

        while let top = w.queue.popMin() {
            let left = Int(top.position)
            // Skip candidates made stale by earlier merges: the left symbol was absorbed, lost its
            // neighbour, or now forms a different pair.
            guard w.ids[left] >= 0, w.next[left] >= 0 else { continue }
            let right = Int(w.next[left])
            guard let entry = merges[Self.pairKey(w.ids[left], w.ids[right])],
                  Int32(truncatingIfNeeded: entry) == top.merged else { continue }
            w.ids[left] = top.merged
            w.ids[right] = -1
            w.next[left] = w.next[right]
            if w.next[right] >= 0 { w.previous[Int(w.next[right])] = Int32(left) }
            if w.previous[left] >= 0 { enqueue(w.previous[left], &w) }
            if w.next[left] >= 0 { enqueue(Int32(left), &w) }
        }
        var i = 0
        while i >= 0 {
            output.append(Int(w.ids[i]))
            i = Int(w.next[i])
        }
    }

    /// Queues the merge of the symbol at `position` with its right neighbour, if one exists.
    private func enqueue(_ position: Int32, _ w: inout Workspace) {
        let left = w.ids[Int(position)], right = w.ids[Int(w.next[Int(position)])]
        guard let entry = merges[Self.pairKey(left, right)] else { return }
        w.queue.push(Candidate(rank: UInt32(entry >> 32), position: position,
                               merged: Int32(truncatingIfNeeded: entry)))
    }
}
