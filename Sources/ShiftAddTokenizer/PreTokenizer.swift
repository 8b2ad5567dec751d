/// Splits text into the words that byte-level BPE encodes independently. Each variant reproduces one
/// splitting pattern exactly (leftmost-first alternation, greedy runs, `\s+(?!\S)` backtracking) by
/// hand over Unicode scalars.
enum PreTokenizer: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Every `\p{N}` scalar is its own word, then the GPT-2 pattern runs on the text between them.
    case digitsThenGPT2
    /// Llama 3 (`maxDigits` 3, case-insensitive contractions) and Qwen 2 (`maxDigits` 1, contractions
    /// spelled out with both cases of each letter):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3(maxDigits: Int, foldsLongS: Bool)

    /// Maps GGUF `tokenizer.ggml.pre` names; nil (no name recorded) means GPT-2.
    init(name: String?) throws(TokenizerError) {
        switch name {
        case nil, "gpt2", "gpt-2": self = .gpt2
        case "smollm", "starcoder", "refact": self = .digitsThenGPT2
        case "llama-bpe", "llama3": self = .llama3(maxDigits: 3, foldsLongS: true)
        case "qwen2": self = .llama3(maxDigits: 1, foldsLongS: false)
        case let other?: throw .unknownPreTokenizer(other)
        }
    }

    static let supportedNames = ["gpt2", "gpt-2", "smollm", "starcoder", "refact", "llama-bpe", "llama3", "qwen2"]

    /// Appends the word ranges of `scalars[range]` to `words`; `classes` holds `ScalarClass` of each scalar.
    func split(_ scalars: [Unicode.Scalar], classes: [ScalarClass], range: Range<Int>,
               into words: inout [Range<Int>]) {
        func input(_ r: Range<Int>) -> PatternInput {
            PatternInput(scalars: scalars, classes: classes, start: r.lowerBound, end: r.upperBound)
        }
        switch self {
        case .gpt2:
            input(range).splitGPT2(into: &words)
        case .digitsThenGPT2:
            var start = range.lowerBound
            for i in range where scalars[i].isNumeric {
                if start < i { input(start..<i).splitGPT2(into: &words) }
                words.append(i..<(i + 1))
                start = i + 1
            }
            if start < range.upperBound { input(start..<range.upperBound).splitGPT2(into: &words) }
        case .llama3(let maxDigits, let foldsLongS):
            input(range).splitLlama3(maxDigits: maxDigits, foldsLongS: foldsLongS, into: &words)
        }
    }
}

/// The scalars `start..<end` a pattern runs over; lookahead sees nothing past `end`.
private struct PatternInput {
    let scalars: [Unicode.Scalar]
    let classes: [ScalarClass]
    let start: Int
    let end: Int

    func splitGPT2(into words: inout [Range<Int>]) {
        var i = start
        while i < end {
            let next: Int
            if let n = contraction(at: i, caseInsensitive: false, foldsLongS: false) {
                next = i + n
            } else {
                // ` ?X+` for X in L, N, other: the space is taken only when a non-space follows it.
                var j = i
                if scalars[i] == " ", i + 1 < end, classes[i + 1] != .whitespace { j += 1 }
                switch classes[j] {
                case .whitespace: next = whitespaceRun(at: i, newlineAware: false)
                case let kind: next = run(of: kind, from: j + 1)
                }
            }
            words.append(i..<next)
            i = next
        }
    }

    func splitLlama3(maxDigits: Int, foldsLongS: Bool, into words: inout [Range<Int>]) {
        var i = start
        while i < end {
            let next: Int
            let kind = classes[i]
            if let n = contraction(at: i, caseInsensitive: true, foldsLongS: foldsLongS) {
                next = i + n
            } else if kind == .letter {
                next = run(of: .letter, from: i + 1)
            } else if kind != .number, !Self.isLineBreak(scalars[i]), i + 1 < end, classes[i + 1] == .letter {
                next = run(of: .letter, from: i + 2)
            } else if kind == .number {
                next = min(run(of: .number, from: i + 1), i + maxDigits)
            } else {
                var j = i
                if scalars[i] == " ", i + 1 < end, classes[i + 1] == .other { j += 1 }
                if classes[j] == .other {
                    var k = run(of: .other, from: j + 1)
                    while k < end, Self.isLineBreak(scalars[k]) { k += 1 }
                    next = k
                } else {
                    next = whitespaceRun(at: i, newlineAware: true)
                }
            }
            words.append(i..<next)
            i = next
        }
    }

    /// End of the run of `kind` scalars starting at or after `start`.
    private func run(of kind: ScalarClass, from start: Int) -> Int {
        var k = start
        while k < end, classes[k] == kind { k += 1 }
        return k
    }

    /// The whitespace alternatives at a whitespace scalar. With `newlineAware`, `\s*[\r\n]+` first takes
    /// the run up to its last line break. Otherwise `\s+(?!\S)` takes the whole run when it ends the input
    /// and all but its last scalar when a non-space follows (that scalar then starts the next word);
    /// a single scalar before a non-space falls through to `\s+`.
    private func whitespaceRun(at i: Int, newlineAware: Bool) -> Int {
        let runEnd = run(of: .whitespace, from: i + 1)
        if newlineAware, let lastBreak = (i..<runEnd).last(where: { Self.isLineBreak(scalars[$0]) }) {
            return lastBreak + 1
        }
        if runEnd == end || runEnd - i == 1 { return runEnd }
        return runEnd - 1
    }

    /// Length of `'s|'t|'re|'ve|'m|'ll|'d` at `i`, or nil. Case-insensitively, `s` also matches U+017F
    /// LATIN SMALL LETTER LONG S, which case-folds to `s`.
    private func contraction(at i: Int, caseInsensitive: Bool, foldsLongS: Bool) -> Int? {
        guard scalars[i] == "'", i + 1 < end else { return nil }
        func letter(_ k: Int) -> Unicode.Scalar? {
            guard k < end else { return nil }
            let s = scalars[k]
            guard caseInsensitive, s.isASCII else { return s }
            return Unicode.Scalar(UInt8(ascii: s) | 0x20)
        }
        switch letter(i + 1) {
        case "s", "t", "m", "d": return 2
        case "\u{17F}": return caseInsensitive && foldsLongS ? 2 : nil
        case "r", "v": return letter(i + 2) == "e" ? 3 : nil
        case "l": return letter(i + 2) == "l" ? 3 : nil
        default: return nil
        }
    }

    private static func isLineBreak(_ s: Unicode.Scalar) -> Bool { s == "\n" || s == "\r" }
}
