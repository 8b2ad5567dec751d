import Foundation
import ShiftAddModel
import ShiftAddTestSupport
import ShiftAddTokenizer
import Testing

@Suite struct Llama2cReaderTests {
    /// Writes `spec` as dir/model.bin, with a tokenizer.bin beside it unless `tokenizer` is nil.
    static func write(_ spec: Llama2cTestModel, tokenizer: [UInt8]? = nil) throws -> (dir: String, expected: [String: [Float]]) {
        let dir = try temporaryDirectory("llama2c")
        let (bytes, expected) = spec.build()
        try writeBytes(bytes, to: dir + "/model.bin")
        if let tokenizer { try writeBytes(tokenizer, to: dir + "/tokenizer.bin") }
        return (dir, expected)
    }

    @Test(arguments: [true, false])
    func roundTripsRandomModels(sharedClassifier: Bool) throws {
        var spec = Llama2cTestModel()
        spec.sharedClassifier = sharedClassifier
        let (dir, expected) = try Self.write(spec, tokenizer: Llama2cTestModel.tokenizerBin(pieces: Llama2cTestModel.pieces(count: 32)))
        let model = try Llama2cReader.read(path: dir + "/model.bin", tokenizerPath: nil)

        let c = model.config
        #expect(model.format == .llama2c)
        #expect(c.architecture == "llama" && c.ropeStyle == .interleaved && c.ropeTheta == 10000 && c.rmsNormEpsilon == 1e-5)
        #expect(c.dim == 16 && c.hiddenDim == 24 && c.layerCount == 2 && c.headCount == 4 && c.kvHeadCount == 2)
        #expect(c.headDim == 4 && c.vocabSize == 32 && c.contextLength == 8)
        #expect(c.tiedEmbeddings == sharedClassifier && !c.attentionBias)
        #expect(model.metadata["general.name"] == "model")
        #expect(model.chatTemplate == nil)
        #expect(Set(model.tensors.keys) == Set(expected.keys))
        #expect(model.tensors.count == (sharedClassifier ? 20 : 21))
        for (name, values) in expected {
            let record = try model.tensor(name)
            #expect(record.type == .f32)
            #expect(record.floats() == values, "\(name)")
        }
        #expect(try model.tensor("blk.1.attn_k.weight").shape == [8, 16])
        #expect(try model.tensor("blk.0.ffn_down.weight").shape == [16, 24])
        #expect(model.tokenizer?.tokens.count == 32)
    }

    @Test func readsTokenizerBin() throws {
        let (dir, _) = try Self.write(Llama2cTestModel(), tokenizer: Llama2cTestModel.tokenizerBin(pieces: Llama2cTestModel.pieces(count: 32)))
        let spec = try #require(try Llama2cReader.read(path: dir + "/model.bin", tokenizerPath: dir + "/tokenizer.bin").tokenizer)
        #expect(spec.model == .sentencePiece)
        #expect(Array(spec.tokens[0..<8]) == ["<unk>", "<s>", "</s>", "<0x00>", "<0x0A>", "<0xFF>", "▁w6", "é7"])
        #expect(spec.tokens[31] == "é31")
        #expect(Array(spec.tokenTypes?[0..<7] ?? []) == [.unknown, .control, .control, .byte, .byte, .byte, .normal])
        #expect(spec.scores == (0..<32).map { Float(-$0) / 4 })
        #expect(spec.bosTokenId == 1 && spec.eosTokenId == 2 && spec.unknownTokenId == 0)
        #expect(spec.addBosToken && spec.addSpacePrefix && !spec.addEosToken)
        #expect(spec.merges == nil && spec.preTokenizer == nil)
    }

    @Test func findsTheTokenizerBesideTheModel() throws {
        let tokenizer = Llama2cTestModel.tokenizerBin(pieces: Llama2cTestModel.pieces(count: 32))
        let (dir, _) = try Self.write(Llama2cTestModel())
        let model = dir + "/model.bin"
        #expect(try Llama2cReader.read(path: model, tokenizerPath: nil).tokenizer == nil)

        try writeBytes(tokenizer, to: dir + "/tok32.bin")
        #expect(try Llama2cReader.read(path: model, tokenizerPath: nil).tokenizer?.tokens.count == 32)

        try writeBytes([0, 0], to: dir + "/tok512.bin")
        #expect(try Llama2cReader.read(path: model, tokenizerPath: nil).tokenizer?.tokens.count == 32)

        try FileManager.default.removeItem(atPath: dir + "/tok32.bin")
        try writeBytes([0, 0], to: dir + "/tok64.bin")
        guard case .cannotOpen(_, let reason)? = thrownModelError({ try Llama2cReader.read(path: model, tokenizerPath: nil) }) else {
            Issue.record("expected an ambiguity error")
            return
        }
        #expect(reason.contains("tok512.bin") && reason.contains("tok64.bin"))

        try writeBytes(tokenizer, to: dir + "/tokenizer.bin")
        #expect(try Llama2cReader.read(path: model, tokenizerPath: nil).tokenizer?.tokens[6] == "▁w6")
        #expect(throws: ModelError.self) { try Llama2cReader.read(path: model, tokenizerPath: dir + "/absent.bin") }
    }

    @Test func rejectsTruncatedAndOverlongFiles() throws {
        let spec = Llama2cTestModel()
        let bytes = spec.build().bytes
        let dir = try temporaryDirectory("llama2c-size")
        let path = dir + "/model.bin"

        try writeBytes(Array(bytes.dropLast(4)), to: path)
        guard case .truncated(_, let what, let needed, let available)? =
                thrownModelError({ try Llama2cReader.read(path: path, tokenizerPath: nil) }) else {
            Issue.record("expected truncated")
            return
        }
        #expect(needed == bytes.count && available == bytes.count - 4 && what.contains("dim 16"))

        try writeBytes(bytes + [1, 2, 3, 4, 5, 6, 7, 8], to: path)
        guard case .malformed(_, let reason)? = thrownModelError({ try Llama2cReader.read(path: path, tokenizerPath: nil) }) else {
            Issue.record("expected malformed")
            return
        }
        #expect(reason.contains("8 trailing bytes") && reason.contains("\(bytes.count) bytes"))

        try writeBytes(Array(bytes[..<10]), to: path)
        #expect(throws: ModelError.truncated(file: path, what: "header", needed: 28, available: 10)) {
            try Llama2cReader.read(path: path, tokenizerPath: nil)
        }
    }

    @Test func rejectsImpossibleHeaders() throws {
        let dir = try temporaryDirectory("llama2c-header")
        let path = dir + "/model.bin"
        let big: Int32 = 1 << 30
        let headers: [[Int32]] = [
            [0, 24, 2, 4, 2, 32, 8], [16, 24, 2, 3, 3, 32, 8], [16, 24, 2, 4, 3, 32, 8], [16, 24, 2, 4, 2, 0, 8],
            [16, 24, -2, 4, 2, 32, 8], [16, 24, 2, 4, 2, 32, 0], [12, 24, 2, 4, 2, 32, 8],
            [big, big, big, 2, 2, big, big],
        ]
        for header in headers {
            try writeBytes(header.flatMap { littleEndianBytes($0) } + [UInt8](repeating: 0, count: 64), to: path)
            guard case .invalidConfig? = thrownModelError({ try Llama2cReader.read(path: path, tokenizerPath: nil) }) else {
                Issue.record("header \(header) was not rejected as invalid")
                continue
            }
        }
        // Sizes that fit in memory arithmetic but not in the file are a truncation, reported without allocating.
        try writeBytes([Int32(4096), 11008, 32, 32, 32, -32000, 2048].flatMap { littleEndianBytes($0) }, to: path)
        guard case .truncated(_, _, let needed, 28)? = thrownModelError({ try Llama2cReader.read(path: path, tokenizerPath: nil) }) else {
            Issue.record("expected truncated")
            return
        }
        #expect(needed > 20_000_000_000)
    }

    @Test func rejectsCorruptTokenizers() throws {
        let (dir, _) = try Self.write(Llama2cTestModel())
        let tokenizerPath = dir + "/tokenizer.bin"
        let good = Llama2cTestModel.pieces(count: 32)
        func withPiece(_ id: Int, _ bytes: [UInt8], score: Float = 0) -> [(score: Float, bytes: [UInt8])] {
            var pieces = good
            pieces[id] = (score, bytes)
            return pieces
        }
        let valid = Llama2cTestModel.tokenizerBin(pieces: good)
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("max length 0", Llama2cTestModel.tokenizerBin(pieces: good, maxLength: 0)),
            ("piece longer than max", Llama2cTestModel.tokenizerBin(pieces: good, maxLength: 3)),
            ("empty piece", Llama2cTestModel.tokenizerBin(pieces: withPiece(9, []))),
            ("invalid UTF-8", Llama2cTestModel.tokenizerBin(pieces: withPiece(9, [0xC3, 0x28]))),
            ("NaN score", Llama2cTestModel.tokenizerBin(pieces: withPiece(9, [0x61], score: .nan))),
            ("too few tokens", Llama2cTestModel.tokenizerBin(pieces: Array(good.prefix(31)))),
            ("trailing bytes", valid + [0, 0, 0, 0]),
            ("cut inside a piece", Array(valid.dropLast(2))),
            ("cut inside a score", Array(valid[..<6])),
            ("negative length", Array(valid[..<8]) + littleEndianBytes(Int32(-5)) + Array(valid[12...])),
            ("length past the end", Array(valid[..<8]) + littleEndianBytes(Int32.max) + Array(valid[12...])),
        ]
        for (label, bytes) in cases {
            try writeBytes(bytes, to: tokenizerPath)
            let error = thrownModelError { try Llama2cReader.read(path: dir + "/model.bin", tokenizerPath: nil) }
            switch error {
            case .malformed(let file, _)?, .truncated(let file, _, _, _)?:
                #expect(file == tokenizerPath, "\(label)")
            default:
                Issue.record("\(label): expected malformed or truncated, got \(String(describing: error))")
            }
        }
    }
}
