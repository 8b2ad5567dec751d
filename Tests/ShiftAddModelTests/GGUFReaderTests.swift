import Foundation
import ShiftAddModel
import ShiftAddTestSupport
import Testing

@Suite struct GGUFReaderTests {
    @Test func readsEveryMetadataTypeAndTensorLayout() throws {
        var b = GGUFBuilder.tinyModel()
        b.alignment = 64
        b.add("general.alignment", .u32(64))
        b.add("t.u8", .u8(200)); b.add("t.i8", .i8(-5)); b.add("t.u16", .u16(60000)); b.add("t.i16", .i16(-300))
        b.add("t.u32", .u32(4_000_000_000)); b.add("t.i32", .i32(-70000)); b.add("t.f32", .f32(1.5))
        b.add("t.bool", .bool(true)); b.add("t.u64", .u64(1 << 40)); b.add("t.i64", .i64(-(1 << 40)))
        b.add("t.f64", .f64(-2.25)); b.add("t.nested", .array(kind: 9, [.array(kind: 5, [.i32(1), .i32(-2)])]))
        let path = temporaryPath("meta.gguf")
        try b.write(to: path)
        let gguf = try GGUFFile(path: path)
        #expect(gguf.version == 3)
        #expect(gguf.alignment == 64)
        let m = gguf.metadata
        #expect(m["t.u8"] == .unsigned(200))
        #expect(m["t.i8"] == .signed(-5))
        #expect(m["t.u16"] == .unsigned(60000))
        #expect(m["t.i16"] == .signed(-300))
        #expect(m["t.u32"] == .unsigned(4_000_000_000))
        #expect(m["t.i32"] == .signed(-70000))
        #expect(m["t.f32"] == .float(1.5))
        #expect(m["t.bool"] == .bool(true))
        #expect(m["t.u64"] == .unsigned(1 << 40))
        #expect(m["t.i64"] == .signed(-(1 << 40)))
        #expect(m["t.f64"] == .float(-2.25))
        #expect(m["t.nested"] == .array([.array([.signed(1), .signed(-2)])]))
        for t in gguf.tensors { #expect(t.offset % 64 == 0) }

        let model = try GGUFReader.read(path: path)
        #expect(model.config.dim == 16)
        #expect(model.config.kvHeadCount == 2)
        #expect(model.config.tiedEmbeddings)
        #expect(model.config.ropeStyle == .interleaved)
        #expect(model.tokenizer?.model == .byteLevelBPE)
        #expect(model.tokenizer?.eosTokenId == 2)
        let q = try model.tensor("blk.1.attn_q.weight")
        #expect(q.shape == [16, 16])
        let expected = b.tensors.first { $0.name == "blk.1.attn_q.weight" }!.data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(q.floats() == expected)
    }

    @Test func readsVersion2() throws {
        var b = GGUFBuilder.tinyModel()
        b.version = 2
        let path = temporaryPath("v2.gguf")
        try b.write(to: path)
        #expect(try GGUFReader.read(path: path).config.layerCount == 2)
    }

    @Test func rejectsBadMagicAndVersion() throws {
        var bytes = GGUFBuilder.tinyModel().bytes()
        bytes[0] = UInt8(ascii: "X")
        let path = temporaryPath("magic.gguf")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: ModelError.badMagic(file: path, found: "58475546")) { try GGUFFile(path: path) }

        var b = GGUFBuilder.tinyModel()
        b.version = 7
        let p2 = temporaryPath("version.gguf")
        try b.write(to: p2)
        #expect(throws: ModelError.unsupportedVersion(file: p2, version: 7)) { try GGUFFile(path: p2) }
    }

    @Test func rejectsTruncationAtEveryRegion() throws {
        let full = GGUFBuilder.tinyModel().bytes()
        // Cut inside the header, the metadata, the tensor infos and the tensor data.
        for cut in [2, 10, 30, 200, 1500, full.count / 2, full.count - 1] {
            let path = temporaryPath("cut\(cut).gguf")
            try Data(full[0..<cut]).write(to: URL(fileURLWithPath: path))
            do {
                _ = try GGUFReader.read(path: path)
                Issue.record("truncation at \(cut) accepted")
            } catch let error as ModelError {
                let text = error.description
                #expect(text.contains(path))
                #expect(text.contains("truncated") || text.contains("magic"), "\(text)")
            }
        }
    }

    @Test func namesAnUnsupportedTensorType() throws {
        var b = GGUFBuilder.tinyModel()
        b.tensors[3].type = 16 // IQ2_XXS
        let path = temporaryPath("iq2xxs.gguf")
        try b.write(to: path)
        #expect(throws: ModelError.unsupportedTensorType(file: path, tensor: b.tensors[3].name, type: "IQ2_XXS (16)")) {
            try GGUFReader.read(path: path)
        }
    }

    @Test func sizesEveryDecodableTypeAndNamesItInRowErrors() throws {
        for type in TensorType.allCases {
            var b = GGUFBuilder()
            b.tensors.append(("x", [2 * type.blockElements, 3], UInt32(type.rawValue), [UInt8](repeating: 0, count: 6 * type.blockBytes)))
            let path = temporaryPath("type\(type.rawValue).gguf")
            try b.write(to: path)
            let tensor = try #require(try GGUFFile(path: path).tensors.first)
            #expect(tensor.type == type && tensor.shape == [3, 2 * type.blockElements] && tensor.byteCount == 6 * type.blockBytes)
            guard type.blockElements > 1 else { continue }
            b.tensors[0].ne = [type.blockElements / 2, 12]
            try b.write(to: path)
            #expect(throws: ModelError.malformed(file: path, reason: "tensor 'x' row of \(type.blockElements / 2) is not a whole number of \(type.name) blocks")) {
                try GGUFFile(path: path)
            }
        }
    }

    @Test func rejectsWrongShapesAndMissingTensors() throws {
        var b = GGUFBuilder.tinyModel()
        let i = b.tensors.firstIndex { $0.name == "blk.0.attn_k.weight" }!
        b.tensors[i].ne = [8, 16]
        let path = temporaryPath("shape.gguf")
        try b.write(to: path)
        #expect(throws: ModelError.wrongShape(file: path, tensor: "blk.0.attn_k.weight", expected: [8, 16], found: [16, 8])) {
            try GGUFReader.read(path: path)
        }

        var m = GGUFBuilder.tinyModel()
        m.tensors.removeAll { $0.name == "blk.1.ffn_up.weight" }
        let p2 = temporaryPath("missing.gguf")
        try m.write(to: p2)
        #expect(throws: ModelError.missingTensor(file: p2, tensor: "blk.1.ffn_up.weight")) { try GGUFReader.read(path: p2) }
    }

    @Test func rejectsUnsupportedArchitectureAndForgedCounts() throws {
        var b = GGUFBuilder.tinyModel()
        b.metadata[0] = ("general.architecture", .string("falcon"))
        let path = temporaryPath("arch.gguf")
        try b.write(to: path)
        #expect(throws: ModelError.unsupportedArchitecture(file: path, architecture: "falcon")) { try GGUFReader.read(path: path) }

        // A string length far beyond the file must be reported, not allocated.
        var bytes = GGUFBuilder.tinyModel().bytes()
        let keyLengthOffset = 4 + 4 + 8 + 8
        for i in 0..<8 { bytes[keyLengthOffset + i] = 0xFF }
        let p2 = temporaryPath("forged.gguf")
        try Data(bytes).write(to: URL(fileURLWithPath: p2))
        #expect(throws: ModelError.self) { try GGUFFile(path: p2) }
    }

    @Test func readsTheDefaultModel() throws {
        let model = try GGUFReader.read(path: try defaultModelPath())
        let c = model.config
        #expect(c.architecture == "llama")
        #expect(c.vocabSize == 49152 && c.dim == 576 && c.hiddenDim == 1536 && c.layerCount == 30)
        #expect(c.headCount == 9 && c.kvHeadCount == 3 && c.headDim == 64)
        #expect(c.ropeTheta == 100000 && c.tiedEmbeddings)
        #expect(model.tensors.count == 272)
        #expect(model.tokenizer?.preTokenizer == "smollm")
        #expect(model.tokenizer?.merges?.count == 48900)
        #expect(model.tokenizer?.addBosToken == false)
        #expect(model.chatTemplate?.contains("<|im_start|>") == true)
        #expect(try model.tensor("token_embd.weight").type == .q8_0)
        #expect(try model.tensor("blk.0.attn_q.weight").type == .q4_1)
    }
}

