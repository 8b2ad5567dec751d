import ShiftAddEngine
import ShiftAddScheduler
import ShiftAddTokenizer
import Testing

/// Streaming equals the non-streamed text on many random sequences: the deltas and finish() concatenate
/// to the decode cut before the first stop string, every delta is valid UTF-8 that the final text
/// begins with, and no stop string is ever emitted.
@Suite struct TextStreamPropertyTests {
    typealias V = StreamVocabulary

    @Test func randomSequencesOnASmallVocabulary() throws {
        let t = try V.tokenizer()
        var random = SeededGenerator(seed: 2024)
        var stopped = 0, cut = 0, split = 0
        for _ in 0..<3000 {
            let tokens = (0..<Int.random(in: 0...24, using: &random)).map { _ in V.pool.randomElement(using: &random)! }
            let stops = (0..<Int.random(in: 0...3, using: &random)).map { _ in V.stops.randomElement(using: &random)! }
            let run = checkStream(t, tokens, stops: stops)
            if run.stopped { stopped += 1 }
            if run.matchedStop != nil { cut += 1 }
            if run.deltas.contains("") && !run.stopped { split += 1 }
        }
        // The sequences exercise what they are meant to: stops at append, stops found by finish(), held text.
        #expect(stopped > 500)
        #expect(cut > stopped)
        #expect(split > 500)
    }

    /// Texts with multi-byte characters, encoded by the default model's tokenizer, with stop strings
    /// cut from the text itself so that they often span tokens.
    @Test func defaultTokenizerOnMultiByteTexts() throws {
        let t = try defaultModelTokenizer()
        let words = ["Grüße", " 東京", "😀", "🗼", " naïve", " café", " — ", "日本語", " the", " cat", "ß", "€", "\n",
                     " STOP", "Ω", "👩‍👩‍👧", " Ελληνικά", " данные", "🇯🇵", "ﬁ", " x"]
        var random = SeededGenerator(seed: 7)
        var stopped = 0, splitCharacters = 0
        for _ in 0..<400 {
            let text = (0..<Int.random(in: 1...16, using: &random)).map { _ in words.randomElement(using: &random)! }.joined()
            let tokens = t.encode(text, addSpecial: false)
            #expect(t.decode(tokens, skipSpecial: true) == text)
            if tokens.contains(where: { String(validating: t.tokenBytes($0), as: UTF8.self) == nil }) { splitCharacters += 1 }
            let scalars = Array(text.unicodeScalars)
            var stops: [String] = []
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                let start = Int.random(in: 0..<scalars.count, using: &random)
                let end = min(scalars.count, start + Int.random(in: 1...6, using: &random))
                stops.append(String(String.UnicodeScalarView(scalars[start..<end])))
            }
            if Bool.random(using: &random) { stops.append("never") }
            if checkStream(t, tokens, stops: stops).stopped { stopped += 1 }
        }
        #expect(stopped > 200)
        #expect(splitCharacters > 100)
    }

    /// Random ids over the whole default vocabulary: byte tokens that form invalid UTF-8, special tokens.
    @Test func defaultTokenizerOnRandomIds() throws {
        let t = try defaultModelTokenizer()
        var random = SeededGenerator(seed: 99)
        let specials = (0..<200).filter { t.isSpecial($0) }
        #expect(!specials.isEmpty)
        for _ in 0..<400 {
            let tokens = (0..<Int.random(in: 0...20, using: &random)).map { _ in
                Int.random(in: 0..<8, using: &random) == 0 ? specials.randomElement(using: &random)!
                    : Int.random(in: 0..<t.vocabularySize, using: &random)
            }
            let text = t.decode(tokens, skipSpecial: true)
            let scalars = Array(text.unicodeScalars)
            var stops = ["\u{FFFD}", " the"].filter { _ in Bool.random(using: &random) }
            if !scalars.isEmpty {
                let start = Int.random(in: 0..<scalars.count, using: &random)
                stops.append(String(String.UnicodeScalarView(scalars[start..<min(scalars.count, start + 3)])))
            }
            checkStream(t, tokens, stops: stops)
        }
    }

    /// The acceptance case: a multi-byte text whose characters and stop string both span tokens.
    @Test func stopStringSpanningTokensInMultiByteText() throws {
        let t = try defaultModelTokenizer()
        let text = "Grüße aus 東京 🗼 und 日本語 😀 — naïve café. Ende"
        let stop = "🗼 und 日本"
        let tokens = t.encode(text, addSpecial: false) + [try #require(t.eosTokenId)]
        // Token byte boundaries fall inside a character and inside the stop string.
        var boundaries: [Int] = []
        var offset = 0
        for token in tokens {
            offset += t.tokenBytes(token).count
            boundaries.append(offset)
        }
        let stopStart = try #require(firstStopOffset(in: text, stops: [stop]))
        let stopEnd = stopStart + stop.utf8.count
        #expect(boundaries.contains { $0 > stopStart && $0 < stopEnd })
        #expect(tokens.contains { String(validating: t.tokenBytes($0), as: UTF8.self) == nil })

        let run = checkStream(t, tokens, stops: [stop])
        #expect(run.stopped)
        #expect(run.text == "Grüße aus 東京 ")
        #expect(run.consumed.count < tokens.count)
        let unstopped = checkStream(t, tokens, stops: [])
        #expect(unstopped.text == text)
        #expect(unstopped.deltas.contains(""))
    }
}
