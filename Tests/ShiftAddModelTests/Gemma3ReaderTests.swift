import Foundation
import ShiftAddEngine
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

/// A Hugging Face `Gemma3ForCausalLM` checkpoint written by the test and the GGUF file llama.cpp's
/// converter would make of it (norms stored as 1 + w).
struct HFGemma3TestModel {
    let vocab = 40, dim = 16, hidden = 24, layers = 7, heads = 4, kvHeads = 1, headDim = 8, window = 4

    /// (Hugging Face name, canonical name, shape, whether Gemma stores the norm as w for 1 + w).
    var table: [(hf: String, canonical: String, shape: [Int], norm: Bool)] {
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        var t: [(String, String, [Int], Bool)] = [("model.embed_tokens.weight", "token_embd.weight", [vocab, dim], false),
                                                  ("model.norm.weight", "output_norm.weight", [dim], true)]
        for l in 0..<layers {
            let p = "model.layers.\(l).", b = "blk.\(l)."
            t += [(p + "input_layernorm.weight", b + "attn_norm.weight", [dim], true),
                  (p + "self_attn.q_proj.weight", b + "attn_q.weight", [qDim, dim], false),
                  (p + "self_attn.k_proj.weight", b + "attn_k.weight", [kvDim, dim], false),
                  (p + "self_attn.v_proj.weight", b + "attn_v.weight", [kvDim, dim], false),
                  (p + "self_attn.q_norm.weight", b + "attn_q_norm.weight", [headDim], true),
                  (p + "self_attn.k_norm.weight", b + "attn_k_norm.weight", [headDim], true),
                  (p + "self_attn.o_proj.weight", b + "attn_output.weight", [dim, qDim], false),
                  (p + "post_attention_layernorm.weight", b + "post_attention_norm.weight", [dim], true),
                  (p + "pre_feedforward_layernorm.weight", b + "ffn_norm.weight", [dim], true),
                  (p + "mlp.gate_proj.weight", b + "ffn_gate.weight", [hidden, dim], false),
                  (p + "mlp.up_proj.weight", b + "ffn_up.weight", [hidden, dim], false),
                  (p + "mlp.down_proj.weight", b + "ffn_down.weight", [dim, hidden], false),
                  (p + "post_feedforward_layernorm.weight", b + "post_ffw_norm.weight", [dim], true)]
        }
        return t
    }

    var config: [String: Any] {
        ["architectures": ["Gemma3ForCausalLM"], "vocab_size": vocab, "hidden_size": dim, "intermediate_size": hidden,
         "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kvHeads, "head_dim": headDim,
         "max_position_embeddings": 64, "rope_theta": 1_000_000.0, "rope_local_base_freq": 10000.0, "rms_norm_eps": 1e-6,
         "sliding_window": window, "query_pre_attn_scalar": headDim, "hidden_activation": "gelu_pytorch_tanh",
         "final_logit_softcapping": NSNull(), "attn_logit_softcapping": NSNull(), "rope_scaling": NSNull(),
         "layer_types": (0..<layers).map { ($0 + 1) % 6 == 0 ? "full_attention" : "sliding_attention" },
         "tie_word_embeddings": true]
    }

    /// Writes both forms of the same random weights: the checkpoint directory and the GGUF file.
    func write(directory: String, gguf: String, config overrides: [String: Any] = [:]) throws {
        var rng = TestRandom(seed: 11)
        var tensors: [SafetensorsTensor] = []
        var b = GGUFBuilder.tinyGemma3(dim: dim, hidden: hidden, layers: layers, heads: heads, kvHeads: kvHeads,
                                       headDim: headDim, window: window, vocab: vocab)
        b.tensors = []
        for (hf, canonical, shape, norm) in table {
            let values = (0..<shape.reduce(1, *)).map { _ in rng.normal() * (norm ? 0.2 : 0.3) }
            tensors.append(SafetensorsTensor(name: hf, shape: shape, values: values, type: .f32))
            b.addF32(canonical, shape: shape, norm ? values.map { 1 + $0 } : values)
        }
        try writeJSON(config.merging(overrides) { $1 }, to: directory + "/config.json")
        try SafetensorsWriter.write(tensors, to: directory + "/model.safetensors")
        try b.write(to: gguf)
    }
}

@Suite struct Gemma3HuggingFaceReaderTests {
    /// The checkpoint reads to the configuration and weights of the GGUF file made from it, and so
    /// to the same logits.
    @Test func readsGemma3ForCausalLMAsItsGGUF() throws {
        let dir = try temporaryDirectory("hf-gemma3")
        let gguf = temporaryPath("hf-gemma3.gguf")
        try HFGemma3TestModel().write(directory: dir, gguf: gguf)
        let hf = try SafetensorsReader.read(path: dir)
        let reference = try GGUFReader.read(path: gguf)
        #expect(hf.config == reference.config)
        #expect(Set(hf.tensors.keys) == Set(reference.tensors.keys))
        for (name, record) in reference.tensors {
            #expect(try hf.tensor(name).floats() == record.floats(), "\(name)")
        }
        let tokens = [3, 17, 5, 39, 0, 22, 8, 31, 2, 14, 26]
        #expect(try ReferenceModel(hf).logits(tokens: tokens) == ReferenceModel(reference).logits(tokens: tokens))
    }

    @Test func refusesWhatTheEngineWouldIgnoreNamingIt() throws {
        let cases: [([String: Any], String)] = [
            (["final_logit_softcapping": 30.0], "final_logit_softcapping is not supported"),
            (["hidden_activation": "gelu"], "hidden_activation gelu is not supported (only gelu_pytorch_tanh)"),
            (["layer_types": Array(repeating: "full_attention", count: 7)], "layer_types is not 5 sliding layers then one full, repeated"),
            (["rope_scaling": ["rope_type": "linear", "factor": 8.0]], "rope_scaling (linear) is not supported"),
        ]
        for (override, reason) in cases {
            let dir = try temporaryDirectory("hf-gemma3-refused")
            try HFGemma3TestModel().write(directory: dir, gguf: temporaryPath("unused.gguf"), config: override)
            #expect(throws: ModelError.invalidConfig(file: dir + "/config.json", reason: reason)) { try SafetensorsReader.read(path: dir) }
        }
    }
}
