import ShiftAddEngine
import ShiftAddModel
import ShiftAddScheduler
import ShiftAddTestSupport
import ShiftAddTokenizer
import Testing

/// A byte-level vocabulary for streaming tests: every single byte, pieces that end or begin in the
/// middle of a multi-byte character, two control tokens and one user-defined token.
enum StreamVocabulary {
    static let pieces: [[UInt8]] = [
        Array(" st".utf8), Array("op".utf8), Array("STOP".utf8), Array("€".utf8), [0xE2, 0x82], [0xAC, 0x41],
        [0xF0, 0x9F], [0x98, 0x80], [0xF0, 0x9F, 0x98], [0x80, 0x21], Array("é".utf8), [0xA9, 0x20],
        Array("日本".utf8), [0xE6, 0x97], [0xA5, 0xE6], [0x9C, 0xAC], Array("語".utf8), Array(" the".utf8),
        Array("\n\n".utf8),
    ]
    static let endOfText = 256 + pieces.count
    static let endOfTurn = endOfText + 1
    static let userDefined = endOfText + 2

    static func byte(_ b: UInt8) -> Int { Int(b) }
    static func piece(_ bytes: [UInt8]) -> Int { 256 + pieces.firstIndex(of: bytes)! }

    /// GPT-2's byte alphabet: printable Latin-1 bytes stand for themselves, the rest for U+0100 onwards.
    static func spelling(_ bytes: [UInt8]) -> String {
        var characters: [Unicode.Scalar] = []
        var shifted: UInt32 = 256
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                characters.append(Unicode.Scalar(UInt32(b))!)
            } else {
                characters.append(Unicode.Scalar(shifted)!)
                shifted += 1
            }
        }
        return String(String.UnicodeScalarView(bytes.map { characters[Int($0)] }))
    }

    static func tokenizer() throws -> Tokenizer {
        let tokens = (0..<256).map { spelling([UInt8($0)]) } + pieces.map(spelling)
            + ["<|endoftext|>", "<|im_end|>", "<tool>"]
        var types = [TokenizerSpec.TokenType](repeating: .normal, count: tokens.count)
        types[endOfText] = .control
        types[endOfTurn] = .control
        types[userDefined] = .userDefined
        return try Tokenizer(spec: TokenizerSpec(model: .byteLevelBPE, preTokenizer: "gpt2", tokens: tokens,
                                                 tokenTypes: types, merges: [], eosTokenId: endOfText))
    }

    /// Tokens random sequences are drawn from: ASCII that spells parts of the stop strings, stray and
    /// leading bytes of multi-byte characters, invalid bytes, the pieces and the special tokens.
    static let pool: [Int] = Array("aopstST !A\n".utf8).map(byte)
        + [0xC3, 0xBC, 0xA9, 0xE2, 0x82, 0xAC, 0xFF, 0x80, 0xF0, 0x9F, 0x98, 0xE6, 0xC0].map(byte)
        + (256..<endOfText) + [endOfText, endOfTurn, userDefined]

    static let stops = ["op", "STOP", "€A", "😀", "é ", "日本語", "\u{FFFD}", "st", " the", "\n", "xyz", "A!",
                        "本", "ü", "<tool>", "t\u{FFFD}"]
}

/// The default model's tokenizer, loaded once; tests fail without the model file.
private let smolLM2: Result<Tokenizer, any Error> = Result {
    let description = try ModelLoader.load(path: try defaultModelPath())
    guard let spec = description.tokenizer else { throw StreamTestError("the default model describes no tokenizer") }
    return try Tokenizer(spec: spec)
}

func defaultModelTokenizer() throws -> Tokenizer { try smolLM2.get() }

struct StreamTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What streaming a token sequence produced.
struct StreamRun {
    var deltas: [String] = []
    var final = ""
    /// Tokens appended before the stream reported a stop (all of them without one).
    var consumed: [Int] = []
    /// append reported a stop.
    var stopped = false
    /// The stream's stop string after finish(), which may also find one in its replacement characters.
    var matchedStop: String?

    var text: String { deltas.joined() + final }

    init(tokenizer: Tokenizer, tokens: [Int], stops: [String]) {
        var stream = TextStream(tokenizer: tokenizer, stop: stops)
        for token in tokens {
            let (delta, stop) = stream.append(token)
            deltas.append(delta)
            consumed.append(token)
            if stop {
                stopped = true
                break
            }
        }
        final = stream.finish()
        matchedStop = stream.matchedStop
    }
}

/// The first byte offset at which any stop string occurs in `text`, by plain search.
func firstStopOffset(in text: String, stops: [String]) -> Int? {
    let haystack = Array(text.utf8)
    var first: Int?
    for stop in stops where !stop.isEmpty {
        let needle = Array(stop.utf8)
        guard needle.count <= haystack.count else { continue }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            first = min(first ?? start, start)
            break
        }
    }
    return first
}

/// The non-streamed result: the whole decode cut before the first stop string.
func nonStreamed(_ tokenizer: Tokenizer, _ tokens: [Int], stops: [String]) -> (text: String, cut: Bool) {
    let text = tokenizer.decode(tokens, skipSpecial: true)
    guard let offset = firstStopOffset(in: text, stops: stops) else { return (text, false) }
    return (String(decoding: Array(text.utf8)[..<offset], as: UTF8.self), true)
}

/// Checks every streaming property for one sequence and returns the run for further checks.
@discardableResult
func checkStream(_ tokenizer: Tokenizer, _ tokens: [Int], stops: [String],
                 sourceLocation: SourceLocation = #_sourceLocation) -> StreamRun {
    let run = StreamRun(tokenizer: tokenizer, tokens: tokens, stops: stops)
    let expected = nonStreamed(tokenizer, run.consumed, stops: stops)
    #expect(run.text == expected.text, "tokens \(run.consumed), stops \(stops)", sourceLocation: sourceLocation)
    #expect(expected.cut == (run.matchedStop != nil), sourceLocation: sourceLocation)
    if let matched = run.matchedStop {
        #expect(stops.contains(matched), sourceLocation: sourceLocation)
        // Only the replacement characters finish() adds can complete a stop string after the last append.
        if !run.stopped { #expect(matched.contains("\u{FFFD}"), sourceLocation: sourceLocation) }
    }
    if !run.stopped { #expect(run.consumed == tokens, sourceLocation: sourceLocation) }
    // Deltas only ever extend the final text: nothing is retracted or replaced later.
    var emitted: [UInt8] = []
    let expectedBytes = Array(expected.text.utf8)
    for delta in run.deltas + [run.final] {
        emitted += delta.utf8
        #expect(String(validating: delta.utf8, as: UTF8.self) != nil, sourceLocation: sourceLocation)
        #expect(expectedBytes.starts(with: emitted), "delta \(Array(delta.utf8))", sourceLocation: sourceLocation)
    }
    #expect(firstStopOffset(in: run.text, stops: stops) == nil, sourceLocation: sourceLocation)
    // The stream stops at the first token that completes a stop string, not later.
    if run.stopped, run.consumed.count > 1 {
        var assembler = UTF8Assembler()
        let earlier = run.consumed.dropLast().flatMap { tokenizer.tokenBytes($0) }
        #expect(firstStopOffset(in: assembler.append(earlier), stops: stops) == nil, sourceLocation: sourceLocation)
    }
    return run
}
