import Foundation
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// GGUF `gemma3` as the Gemma 3 home (`Gemma3`) reads it.
@Suite struct Gemma3ReaderTests {
    @Test func readsGemma3Settings() throws {
        let path = temporaryPath("gemma3.gguf")
        try GGUFBuilder.tinyGemma3(layers: 7, headDim: 8, window: 4).write(to: path)
        let model = try GGUFReader.read(path: path)
        let c = model.config
        #expect(c.family == .gemma3)
        #expect(c.architecture == "gemma3")
        #expect(c.ropeStyle == .halfSplit)
        #expect(c.tiedEmbeddings)
        #expect(c.headDim == 8 && c.qDim == 32 && c.kvDim == 8)
        #expect(c.rmsNormEpsilon == 1e-6)
        #expect(c.gemma3 == Gemma3.Settings(slidingWindow: 4, globalLayerPeriod: 6, slidingRopeTheta: 10000,
                                            attentionScale: 1 / Float(8).squareRoot()))
        #expect((0..<7).map { c.attentionWindow(layer: $0) } == [4, 4, 4, 4, 4, nil, 4])
        #expect((0..<7).map { c.ropeTheta(layer: $0) } == [10000, 10000, 10000, 10000, 10000, 1_000_000, 10000])
        #expect(c.embeddingScale == Float(16).squareRoot())
        #expect(c.attentionScale == 1 / Float(8).squareRoot())
        #expect(model.tensors[Gemma3.Names.postFFNNorm(6)]?.shape == [16])
    }

    @Test func namesAMissingGemma3Tensor() throws {
        for name in ["blk.6.post_ffw_norm.weight", "blk.0.attn_q_norm.weight", "blk.3.post_attention_norm.weight"] {
            var b = GGUFBuilder.tinyGemma3()
            b.tensors.removeAll { $0.name == name }
            let path = temporaryPath("gemma3-missing.gguf")
            try b.write(to: path)
            #expect(throws: ModelError.missingTensor(file: path, tensor: name)) { try GGUFReader.read(path: path) }
        }
    }

    @Test func namesTheKeyOfAMissingWindowAndRefusesRotaryScaling() throws {
        var b = GGUFBuilder.tinyGemma3()
        b.metadata.removeAll { $0.0 == "gemma3.attention.sliding_window" }
        let path = temporaryPath("gemma3-window.gguf")
        try b.write(to: path)
        #expect(throws: ModelError.missingMetadata(file: path, key: "gemma3.attention.sliding_window")) { try GGUFReader.read(path: path) }

        var scaled = GGUFBuilder.tinyGemma3()
        scaled.add("gemma3.rope.scaling.factor", .f32(8))
        let p2 = temporaryPath("gemma3-scaled.gguf")
        try scaled.write(to: p2)
        #expect(throws: ModelError.invalidConfig(file: p2, reason: "gemma3.rope.scaling.factor (rotary scaling) is not supported")) {
            try GGUFReader.read(path: p2)
        }
    }

    /// A LLaMA file's tensors under the name gemma3 lack Gemma's norms; the first is named.
    @Test func aLlamaLayoutUnderGemma3NamesTheFirstMissingNorm() throws {
        var b = GGUFBuilder.tinyModel()
        b.metadata = b.metadata.map { key, value in
            (key.hasPrefix("llama.") ? "gemma3." + key.dropFirst("llama.".count) : key,
             key == "general.architecture" ? .string("gemma3") : value)
        }
        b.add("gemma3.attention.sliding_window", .u32(4))
        let path = temporaryPath("llama-as-gemma3.gguf")
        try b.write(to: path)
        #expect(throws: ModelError.missingTensor(file: path, tensor: "blk.0.attn_q_norm.weight")) { try GGUFReader.read(path: path) }
    }
}
