/// SentencePiece-style BPE driven by piece scores, as llama.cpp runs it: spaces become "▁", every
/// character starts as its own symbol, and the adjacent pair whose concatenation is the highest-scoring
/// token is merged first (leftmost on ties) until no pair forms a token. Every token's spelling counts,
/// whatever its kind (llama.cpp looks pieces up in the whole vocabulary, so "<" "bos" ">" could merge
/// into a control token if the vocabulary had the steps). A character left without a token becomes the
/// `<0xNN>` tokens of its UTF-8 bytes, or one unknown token when the vocabulary lacks some of them.
struct SentencePieceBPE: Sendable {
    /// Every token by spelling.
    private let pieces: TokenTextIndex
    private let scores: [Float]
    /// `<0xNN>` token of each byte value, -1 where missing.
    private let byteTokens: [Int32]
    private let unknownTokenId: Int?

    static let spaceMarker: [UInt8] = Array("\u{2581}".utf8)

    init(scores: [Float], ids: TokenTextIndex, unknownTokenId: Int?) {
        pieces = ids
        self.scores = scores
        byteTokens = (0..<256).map { byte in
            ids[SentencePieceBPE.byteTokenText(UInt8(byte))].map { Int32($0) } ?? -1
        }
        self.unknownTokenId = unknownTokenId
    }

    static func byteTokenText(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
    }

    /// Heap order: higher score first, then the leftmost pair.
    private struct Candidate: Comparable {
        var score: Float
        var left: Int
        var right: Int
        var length: Int

        static func < (a: Candidate, b: Candidate) -> Bool {
            a.score != b.score ? a.score > b.score : a.left < b.left
        }
    }

    /// Appends the tokens of `text`, with a space in front when `spacePrefix`.
    func encode(_ text: ArraySlice<Unicode.Scalar>, spacePrefix: Bool, into output: inout [Int]) {
        guard !text.isEmpty else { return }
        var bytes: [UInt8] = []
        var symbols: [Symbol] = []
        func add(_ scalar: Unicode.Scalar) {
            let start = bytes.count
            if scalar == " " {
                bytes.append(contentsOf: Self.spaceMarker)
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
            symbols.append(Symbol(start: start, length: bytes.count - start, previous: symbols.count - 1,
                                  next: symbols.count + 1))
        }
        if spacePrefix { add(" ") }
        for scalar in text { add(scalar) }
        symbols[symbols.count - 1].next = -1

        var queue = BinaryHeap<Candidate>()
        func enqueue(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let start = symbols[left].start
            let end = symbols[right].start + symbols[right].length
            guard let id = pieces[bytes[start..<end]] else { return }
            queue.push(Candidate(score: scores[id], left: left, right: right, length: end - start))
        }
        for i in 1..<symbols.count { enqueue(i - 1, i) }

        while let top = queue.popMin() {
            let left = symbols[top.left], right = symbols[top.right]
            // Stale when either side was merged away or grew since the candidate was queued.
            guard left.length > 0, right.length > 0, left.length + right.length == top.length else { continue }
            symbols[top.left].length += right.length
            symbols[top.right].length = 0
            symbols[top.left].next = right.next
            if right.next >= 0 { symbols[right.next].previous = top.left }
            enqueue(left.previous, top.left)
            enqueue(top.left, right.next)
        }

        var i = 0
        while i >= 0 {
            let symbol = symbols[i]
            let span = bytes[symbol.start..<(symbol.start + symbol.length)]
            if let id = pieces[span] {
                output.append(id)
            } else if span.allSatisfy({ byteTokens[Int($0)] >= 0 }) {
                output.append(contentsOf: span.map { Int(byteTokens[Int($0)]) })
            } else if let unknownTokenId {
                output.append(unknownTokenId)
            }
            i = symbol.next
        }
    }
}
