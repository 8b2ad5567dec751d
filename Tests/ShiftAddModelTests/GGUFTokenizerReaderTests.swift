import Foundation
import ShiftAddModel
import ShiftAddTestSupport
import ShiftAddTokenizer
import Testing

/// The tokenizer of a GGUF file read on its own, as for Gemma 3 (`tokenizer.ggml.model` `llama`: scores,
/// token types, byte pieces, no space prefix, BOS added), whatever the file's architecture.
@Suite struct GGUFTokenizerReaderTests {
    static let pieces: [(String, Float, Int32)] = [
        ("<pad>", -1000, 3), ("<eos>", -1000, 3), ("<bos>", -1000, 3), ("<unk>", -1000, 3), ("\n", -1000, 4),
        ("<0x00>", 0, 6), ("▁", -1, 1), ("h", -2, 1), ("i", -2, 1), ("hi", -3, 1),
    ]

    static func gemmaStyleFile(architecture: String, spacePrefix: Bool?) throws -> String {
        var b = GGUFBuilder()
        b.add("general.architecture", .string(architecture))
        b.add("tokenizer.ggml.model", .string("llama"))
        b.add("tokenizer.ggml.pre", .string("default"))
        b.add("tokenizer.ggml.tokens", .array(kind: 8, pieces.map { .string($0.0) }))
        b.add("tokenizer.ggml.scores", .array(kind: 6, pieces.map { .f32($0.1) }))
        b.add("tokenizer.ggml.token_type", .array(kind: 5, pieces.map { .i32($0.2) }))
        b.add("tokenizer.ggml.bos_token_id", .u32(2))
        b.add("tokenizer.ggml.eos_token_id", .u32(1))
        b.add("tokenizer.ggml.unknown_token_id", .u32(3))
        b.add("tokenizer.ggml.padding_token_id", .u32(0))
        b.add("tokenizer.ggml.add_bos_token", .bool(true))
        b.add("tokenizer.ggml.add_sep_token", .bool(false))
        b.add("tokenizer.ggml.add_eos_token", .bool(false))
        if let spacePrefix { b.add("tokenizer.ggml.add_space_prefix", .bool(spacePrefix)) }
        let path = temporaryPath("\(architecture)-\(String(describing: spacePrefix)).gguf")
        try b.write(to: path)
        return path
    }

    @Test func readsTheTokenizerOfAnArchitectureTheEngineLacks() throws {
        let path = try Self.gemmaStyleFile(architecture: "future-arch", spacePrefix: false)
        #expect(throws: ModelError.unsupportedArchitecture(file: path, architecture: "future-arch")) {
            try GGUFReader.read(path: path)
        }
        let spec = try #require(try GGUFReader.readTokenizer(path: path))
        #expect(spec == (try ModelLoader.loadTokenizer(path: path)))
        #expect(spec.model == .sentencePiece)
        #expect(spec.tokens == Self.pieces.map(\.0))
        #expect(spec.scores == Self.pieces.map(\.1))
        #expect(spec.tokenTypes == [.control, .control, .control, .control, .userDefined, .byte, .normal, .normal,
                                    .normal, .normal])
        #expect(spec.bosTokenId == 2 && spec.eosTokenId == 1 && spec.unknownTokenId == 3 && spec.paddingTokenId == 0)
        #expect(spec.addBosToken && !spec.addEosToken && !spec.addSpacePrefix)

        let tokenizer = try Tokenizer(spec: spec)
        #expect(tokenizer.encode("hi\nhi") == [2, 9, 4, 9])
        #expect(tokenizer.encode("hi", addSpecial: false) == [9])
    }

    @Test func spacePrefixDefaultsOnForSentencePiece() throws {
        let path = try Self.gemmaStyleFile(architecture: "future-arch", spacePrefix: nil)
        let spec = try #require(try GGUFReader.readTokenizer(path: path))
        #expect(spec.addSpacePrefix)
        #expect(try Tokenizer(spec: spec).encode("hi", addSpecial: false) == [6, 9])
    }

    @Test func loadTokenizerReadsOtherFormatsThroughTheirReaders() throws {
        let path = temporaryPath("tiny-llama.gguf")
        try GGUFBuilder.tinyModel().write(to: path)
        #expect(try ModelLoader.loadTokenizer(path: path) == (try ModelLoader.load(path: path).tokenizer))
        let missing = temporaryPath("absent.gguf")
        #expect(throws: ModelError.cannotOpen(file: missing, reason: "no such file or directory")) {
            try ModelLoader.loadTokenizer(path: missing)
        }
    }
}
