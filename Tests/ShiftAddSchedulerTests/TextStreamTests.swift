import ShiftAddScheduler
import ShiftAddTokenizer
import Testing

/// Streaming text on hand-picked token sequences.
@Suite struct TextStreamTests {
    typealias V = StreamVocabulary

    static func bytes(_ text: String) -> [Int] { text.utf8.map(V.byte) }

    /// Appends every token and returns the deltas, whether the last append reported a stop, and finish().
    static func run(_ tokens: [Int], stops: [String], tokenizer: Tokenizer) -> (deltas: [String], stopped: Bool, final: String) {
        var stream = TextStream(tokenizer: tokenizer, stop: stops)
        var deltas: [String] = []
        var stopped = false
        for token in tokens {
            let step = stream.append(token)
            deltas.append(step.text)
            stopped = step.stopped
        }
        return (deltas, stopped, stream.finish())
    }

    @Test func textThatMayStartAStopStringWaits() throws {
        let t = try V.tokenizer()
        let run = Self.run(Self.bytes("aSTx"), stops: ["STOP"], tokenizer: t)
        #expect(run.deltas == ["a", "", "", "STx"])
        #expect(!run.stopped)
        #expect(run.final == "")
    }

    @Test func stopStringAcrossTokensEmitsOnlyTheTextBefore() throws {
        let t = try V.tokenizer()
        var stream = TextStream(tokenizer: t, stop: ["stop"])
        #expect(stream.append(V.byte(UInt8(ascii: "a"))) == ("a", false))
        #expect(stream.append(V.piece(Array(" st".utf8))) == (" ", false))
        #expect(stream.append(V.piece(Array("op".utf8))) == ("", true))
        #expect(stream.matchedStop == "stop")
        #expect(stream.append(V.byte(UInt8(ascii: "x"))) == ("", true))
        #expect(stream.finish() == "")
    }

    @Test func finishReleasesAnUnfinishedStopString() throws {
        let t = try V.tokenizer()
        let run = Self.run(Self.bytes("aST"), stops: ["STOP"], tokenizer: t)
        #expect(run.deltas == ["a", "", ""])
        #expect(run.final == "ST")
    }

    @Test func multiByteCharactersWaitForTheirLastByte() throws {
        let t = try V.tokenizer()
        let euro = Self.run([V.piece([0xE2, 0x82]), V.piece([0xAC, 0x41])], stops: [], tokenizer: t)
        #expect(euro.deltas == ["", "€A"])
        let emoji = Self.run([V.piece([0xF0, 0x9F]), V.piece([0x98, 0x80]), V.byte(0x21)], stops: [], tokenizer: t)
        #expect(emoji.deltas == ["", "😀", "!"])
        let japanese = Self.run([V.piece([0xE6, 0x97]), V.piece([0xA5, 0xE6]), V.piece([0x9C, 0xAC])], stops: [], tokenizer: t)
        #expect(japanese.deltas == ["", "日", "本"])
    }

    @Test func invalidAndUnfinishedBytesBecomeReplacementCharactersAsInDecode() throws {
        let t = try V.tokenizer()
        let tokens = [V.byte(0xFF), V.byte(UInt8(ascii: "a")), V.byte(0x80), V.piece([0xE2, 0x82])]
        let run = Self.run(tokens, stops: [], tokenizer: t)
        #expect(run.deltas == ["\u{FFFD}", "a", "\u{FFFD}", ""])
        #expect(run.final == "\u{FFFD}")
        #expect(run.deltas.joined() + run.final == t.decode(tokens, skipSpecial: true))
    }

    @Test func specialTokensGiveNoTextAndDoNotBreakAStopString() throws {
        let t = try V.tokenizer()
        #expect(t.isSpecial(V.endOfText) && t.isSpecial(V.endOfTurn) && !t.isSpecial(V.userDefined))
        let plain = Self.run([V.byte(UInt8(ascii: "a")), V.endOfText, V.endOfTurn, V.userDefined], stops: [], tokenizer: t)
        #expect(plain.deltas == ["a", "", "", "<tool>"])
        let split = Self.run([V.byte(UInt8(ascii: "S")), V.endOfText] + Self.bytes("TOP"), stops: ["STOP"], tokenizer: t)
        #expect(split.deltas.joined() + split.final == "")
        #expect(split.stopped)
    }

    @Test func stopStringWithASplitCharacter() throws {
        let t = try V.tokenizer()
        let tokens = [V.byte(UInt8(ascii: "x")), V.piece([0xE2, 0x82]), V.piece([0xAC, 0x41]), V.byte(UInt8(ascii: "y"))]
        let run = Self.run(Array(tokens.prefix(3)), stops: ["€A"], tokenizer: t)
        #expect(run.deltas == ["x", "", ""])
        #expect(run.stopped)
    }

    @Test func replacementCharacterAtTheEndCanCompleteAStopString() throws {
        let t = try V.tokenizer()
        var stream = TextStream(tokenizer: t, stop: ["t\u{FFFD}"])
        #expect(stream.append(V.byte(UInt8(ascii: "t"))) == ("", false))
        #expect(stream.append(V.byte(0xE2)) == ("", false))
        #expect(stream.finish() == "")
        #expect(stream.matchedStop == "t\u{FFFD}")
        #expect(nonStreamed(t, [V.byte(UInt8(ascii: "t")), V.byte(0xE2)], stops: ["t\u{FFFD}"]).text == "")
    }

    @Test func theEarliestStopStringWins() throws {
        let t = try V.tokenizer()
        // "bc" completes while "abcd" is still possible: generation stops at the first complete match.
        var stream = TextStream(tokenizer: t, stop: ["abcd", "bc"])
        #expect(stream.append(V.byte(UInt8(ascii: "a"))) == ("", false))
        #expect(stream.append(V.byte(UInt8(ascii: "b"))) == ("", false))
        #expect(stream.append(V.byte(UInt8(ascii: "c"))) == ("a", true))
        #expect(stream.matchedStop == "bc")
        // Two stop strings completing at the same position: the one listed first is reported.
        var same = TextStream(tokenizer: t, stop: ["xst", "st"])
        #expect(same.append(V.piece(Array(" st".utf8))) == (" ", true))
        #expect(same.matchedStop == "st")
    }

    @Test func emptyAndDuplicateStopStringsAreIgnored() throws {
        let t = try V.tokenizer()
        let run = Self.run(Self.bytes("ab"), stops: ["", "", "zz", "zz"], tokenizer: t)
        #expect(run.deltas == ["a", "b"])
        #expect(!run.stopped)
    }

    @Test func idsOutsideTheVocabularyAreIgnored() throws {
        let t = try V.tokenizer()
        let tokens = [V.byte(UInt8(ascii: "a")), -1, t.vocabularySize, V.byte(UInt8(ascii: "b"))]
        let run = Self.run(tokens, stops: [], tokenizer: t)
        #expect(run.deltas == ["a", "", "", "b"])
        #expect(t.decode(tokens, skipSpecial: true) == "ab")
    }

    /// SentencePiece vocabularies with a space prefix drop the leading space where decode does.
    @Test func sentencePieceSpacePrefixMatchesDecode() throws {
        for spacePrefix in [true, false] {
            let t = try Self.sentencePieceTokenizer(spacePrefix: spacePrefix)
            let spaceHe = 10, llo = 11, eos = 2, space = 3, h = 4
            let tokens = [spaceHe, llo, eos, spaceHe, space, h]
            let run = Self.run(tokens, stops: [], tokenizer: t)
            let text = run.deltas.joined() + run.final
            #expect(text == t.decode(tokens, skipSpecial: true))
            #expect(text == (spacePrefix ? "hellohe h" : " hello he h"))
        }
    }

    static func sentencePieceTokenizer(spacePrefix: Bool) throws -> Tokenizer {
        let pieces: [(String, Float)] = [
            ("<unk>", 0), ("<s>", 0), ("</s>", 0), ("▁", -1), ("h", -2), ("e", -2), ("l", -2), ("o", -2),
            ("ll", -0.5), ("he", -1), ("▁he", -3), ("llo", -0.2), ("hello", -4),
        ]
        let types = [TokenizerSpec.TokenType.unknown, .control, .control]
            + [TokenizerSpec.TokenType](repeating: .normal, count: pieces.count - 3)
        return try Tokenizer(spec: TokenizerSpec(
            model: .sentencePiece, tokens: pieces.map(\.0), scores: pieces.map(\.1), tokenTypes: types, bosTokenId: 1,
            eosTokenId: 2, unknownTokenId: 0, addSpacePrefix: spacePrefix))
    }
}
