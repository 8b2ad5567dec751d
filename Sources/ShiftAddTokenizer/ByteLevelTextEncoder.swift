/// State of one byte-level encode call: the text as scalars, their classes and UTF-8 bytes, and the
/// words already encoded (running text repeats most of its words, so each distinct word runs BPE once).
struct ByteLevelTextEncoder {
    private let bpe: ByteLevelBPE
    private let preTokenizer: PreTokenizer
    private let scalars: [Unicode.Scalar]
    private let classes: [ScalarClass]
    private var utf8: [UInt8] = []
    /// UTF-8 offset of each scalar, plus the end offset.
    private var offsets: [Int] = []
    /// Word bytes → its tokens in `cachedTokens`.
    private var cache: [ArraySlice<UInt8>: Range<Int>] = [:]
    private var cachedTokens: [Int] = []
    private var workspace = ByteLevelBPE.Workspace()
    private var words: [Range<Int>] = []

    init(bpe: ByteLevelBPE, preTokenizer: PreTokenizer, scalars: [Unicode.Scalar]) {
        self.bpe = bpe
        self.preTokenizer = preTokenizer
        self.scalars = scalars
        classes = scalars.map(ScalarClass.init)
        utf8.reserveCapacity(scalars.count)
        offsets.reserveCapacity(scalars.count + 1)
        for scalar in scalars {
            offsets.append(utf8.count)
            UTF8.encode(scalar) { utf8.append($0) }
        }
        offsets.append(utf8.count)
    }

    /// Appends the tokens of `scalars[range]`.
    mutating func encode(_ range: Range<Int>, into output: inout [Int]) {
        words.removeAll(keepingCapacity: true)
        preTokenizer.split(scalars, classes: classes, range: range, into: &words)
        for word in words {
            let bytes = utf8[offsets[word.lowerBound]..<offsets[word.upperBound]]
            if let cached = cache[bytes] {
                output.append(contentsOf: cachedTokens[cached])
                continue
            }
            let start = cachedTokens.count
            bpe.encode(word: bytes, into: &cachedTokens, workspace: &workspace)
            cache[bytes] = start..<cachedTokens.count
            output.append(contentsOf: cachedTokens[start...])
        }
    }
}
