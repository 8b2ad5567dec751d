import ShiftAddEngine
import ShiftAddTokenizer

/// Turns generated tokens into text deltas: valid UTF-8 only (bytes of an incomplete character
/// wait), text that may begin a stop string held back until resolved, the stop string never emitted.
///
/// The deltas and `finish()` concatenate to `tokenizer.decode(tokens, skipSpecial: true)` cut before
/// the first stop string, where `tokens` are the tokens appended up to the stop: special tokens
/// (EOS, end-of-turn and other control tokens) give no text, invalid bytes become U+FFFD exactly as in
/// that decode, and stop strings match across token boundaries, including across special tokens
/// (which add no text). Empty stop strings are ignored.
public struct TextStream: Sendable {
    private var pieces: DecodedPieces
    private var assembler = UTF8Assembler()
    private var matcher: StopStringMatcher
    private var finished = false

    public init(tokenizer: Tokenizer, stop: [String]) {
        pieces = DecodedPieces(tokenizer: tokenizer)
        matcher = StopStringMatcher(stop)
    }

    /// Whether a stop string has been found; from then on no more text is released.
    public var isStopped: Bool { matcher.matched != nil }

    /// The stop string found (at equal positions, the one listed first).
    public var matchedStop: String? { matcher.matched }

    /// `text` is what may be emitted now; `stopped` says a stop string completed (the text before it
    /// is included in `text`). After a stop or `finish()`, returns empty text.
    public mutating func append(_ token: Int) -> (text: String, stopped: Bool) {
        guard !finished, !isStopped else { return ("", isStopped) }
        let text = matcher.append(assembler.append(pieces.bytes(for: token)))
        return (text, isStopped)
    }

    /// At the end: flushes held text (incomplete bytes → U+FFFD; a stop string the replacement
    /// completes still cuts the text). Later calls return "".
    public mutating func finish() -> String {
        guard !finished else { return "" }
        finished = true
        guard !isStopped else { return "" }
        let text = matcher.append(assembler.flush())
        return isStopped ? text : text + matcher.flush()
    }
}
