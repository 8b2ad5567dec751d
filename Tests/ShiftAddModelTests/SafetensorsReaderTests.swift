import Foundation
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTestSupport
import ShiftAddTokenizer
import Testing

/// The `ModelError` `body` throws, recording an issue if it throws something else or nothing.
func thrownModelError(_ body: () throws -> Any, sourceLocation: SourceLocation = #_sourceLocation) -> ModelError? {
    do {
        _ = try body()
        Issue.record("expected a ModelError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ModelError {
        return error
    } catch {
        Issue.record("expected a ModelError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite struct SafetensorsReaderTests {
    static let roundTripCases: [(String, HFTestModel, Int)] = {
        var untied = HFTestModel()
        untied.dtype = .f32
        var tied = HFTestModel()
        tied.tieWordEmbeddings = true
        tied.writeLMHead = false
        tied.dtype = .f16
        var headless = HFTestModel()
        headless.writeLMHead = false
        headless.dtype = .bf16
        var mistral = HFTestModel()
        mistral.architecture = "MistralForCausalLM"
        mistral.headDim = 8
        mistral.heads = 4
        mistral.kvHeads = 1
        var qwen = HFTestModel()
        qwen.architecture = "Qwen2ForCausalLM"
        qwen.tieWordEmbeddings = true
        qwen.dtype = .bf16
        return [("llama untied f32", untied, 1), ("llama tied f16", tied, 1), ("llama without lm_head bf16", headless, 1),
                ("mistral head_dim 8, 3 shards", mistral, 3), ("qwen2 biases tied bf16, 2 shards", qwen, 2)]
    }()

    @Test(arguments: 0..<roundTripCases.count)
    func roundTripsRandomModels(caseIndex: Int) throws {
        let (label, spec, shards) = Self.roundTripCases[caseIndex]
        let dir = try temporaryDirectory("roundtrip")
        try spec.write(to: dir, shards: shards)
        let model = try SafetensorsReader.read(path: dir)

        let c = model.config
        #expect(model.format == .safetensors)
        #expect(c.architecture == (spec.architecture == "Qwen2ForCausalLM" ? "qwen2" : "llama"), "\(label)")
        #expect(c.vocabSize == spec.vocab && c.dim == spec.dim && c.hiddenDim == spec.hidden && c.layerCount == spec.layers)
        #expect(c.headCount == spec.heads && c.kvHeadCount == spec.kvHeads && c.headDim == spec.resolvedHeadDim)
        #expect(c.contextLength == 128 && c.ropeTheta == 500000 && c.rmsNormEpsilon == 1e-5)
        #expect(c.ropeStyle == .halfSplit)
        #expect(c.tiedEmbeddings == (spec.tieWordEmbeddings || !spec.writeLMHead), "\(label)")
        #expect(c.attentionBias == spec.attentionBias)
        #expect(model.metadata["general.name"] == "test/tiny")
        #expect(model.metadata["general.architecture"] == spec.architecture)

        let expected = spec.tensors().filter { $0.canonical != nil }
        #expect(Set(model.tensors.keys) == Set(expected.map { $0.canonical! }), "\(label)")
        for (tensor, canonical, values) in expected {
            let record = try model.tensor(canonical!)
            #expect(record.shape == tensor.shape, "\(canonical!)")
            #expect(record.type.name == spec.dtype.rawValue)
            #expect(record.floats() == values, "\(label): \(canonical!)")
        }
    }

    @Test func readsAFileOrAnIndexPathDirectly() throws {
        let single = try temporaryDirectory("single")
        try HFTestModel().write(to: single)
        let fromFile = try SafetensorsReader.read(path: single + "/model.safetensors")
        #expect(fromFile.tensors.count == 3 + 9 * 2)

        let sharded = try temporaryDirectory("sharded")
        try HFTestModel().write(to: sharded, shards: 4)
        let fromIndex = try SafetensorsReader.read(path: sharded + "/model.safetensors.index.json")
        #expect(try fromIndex.tensor("blk.1.ffn_down.weight").floats() == fromFile.tensor("blk.1.ffn_down.weight").floats())
    }

    /// Half and bfloat16 patterns across every range (subnormal, normal, extremes, infinities, NaN)
    /// decode to exactly the values an independent decoder gives.
    @Test(arguments: [SafetensorsDType.f16, .bf16])
    func decodesHalfPrecisionExactly(dtype: SafetensorsDType) throws {
        var spec = HFTestModel()
        spec.dtype = dtype
        let dir = try temporaryDirectory("halves")
        let count = spec.vocab * spec.dim
        let special: [UInt16] = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF,
                                 0x7C00, 0xFC00, 0x7E00, 0x3555, 0x0080, 0x7F7F, 0xFF7F, 0x7F80, 0xFF80, 0x7FC0]
        var rng = TestRandom(seed: 11)
        let patterns = special + (special.count..<count).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        var tensors = spec.tensors().map(\.tensor)
        tensors[0] = SafetensorsTensor(name: "model.embed_tokens.weight", dtype: dtype.rawValue,
                                       shape: [spec.vocab, spec.dim], data: patterns.flatMap { littleEndianBytes($0) })
        try writeJSON(spec.config, to: dir + "/config.json")
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")

        let decoded = try SafetensorsReader.read(path: dir).tensor("token_embd.weight").floats()
        for (bits, value) in zip(patterns, decoded) {
            let want = dtype == .f16 ? SafetensorsDType.halfValue(bits) : Float(bitPattern: UInt32(bits) << 16)
            #expect(want.isNaN ? value.isNaN : want.bitPattern == value.bitPattern, "pattern 0x\(String(bits, radix: 16))")
        }
    }

    // MARK: tokenizer

    static let vocabulary = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "c", "ab", "abc", "Ġ", "Ġa",
                             "0", "1", "Ċ", "é"]

    static func writeTokenizer(into dir: String, merges: [Any], preTokenizer: [String: Any] = TokenizerJSON.smollmPreTokenizer,
                               postProcessor: [String: Any]? = nil, byteFallback: Bool = false) throws {
        let json = TokenizerJSON.byteLevel(
            vocab: vocabulary, merges: merges,
            added: [(0, "<|endoftext|>", true), (1, "<|im_start|>", true), (2, "<|im_end|>", true), (30, "<tool>", false)],
            preTokenizer: preTokenizer, postProcessor: postProcessor, byteFallback: byteFallback)
        try writeJSON(json, to: dir + "/tokenizer.json")
    }

    @Test(arguments: [false, true])
    func readsByteLevelTokenizerJSON(mergesAsPairs: Bool) throws {
        let dir = try temporaryDirectory("tokenizer")
        try HFTestModel().write(to: dir)
        let merges: [Any] = mergesAsPairs ? [["a", "b"], ["ab", "c"], ["Ġ", "a"]] : ["a b", "ab c", "Ġ a"]
        try Self.writeTokenizer(into: dir, merges: merges)
        try writeJSON(["bos_token": ["content": "<|im_start|>", "__type": "AddedToken"], "eos_token": "<|im_end|>",
                       "pad_token": "<|endoftext|>", "unk_token": NSNull(), "add_bos_token": true,
                       "chat_template": [["name": "tool_use", "template": "tools"], ["name": "default", "template": "{{ x }}"]]],
                      to: dir + "/tokenizer_config.json")
        try writeJSON(["eos_token_id": [2, 0], "bos_token_id": 1], to: dir + "/generation_config.json")

        let model = try SafetensorsReader.read(path: dir)
        let spec = try #require(model.tokenizer)
        #expect(spec.model == .byteLevelBPE)
        #expect(spec.preTokenizer == "smollm")
        #expect(spec.tokens.count == 40)
        #expect(Array(spec.tokens[..<Self.vocabulary.count]) == Self.vocabulary)
        #expect(spec.tokens[30] == "<tool>" && spec.tokens[14] == "[PAD14]" && spec.tokens[39] == "[PAD39]")
        let types = try #require(spec.tokenTypes)
        #expect(Array(types[0..<4]) == [.control, .control, .control, .normal])
        #expect(types[30] == .userDefined && types[13] == .normal && types[14] == .unused)
        #expect(spec.merges == ["a b", "ab c", "Ġ a"])
        #expect(spec.scores == nil)
        #expect(spec.bosTokenId == 1 && spec.eosTokenId == 2 && spec.paddingTokenId == 0 && spec.unknownTokenId == nil)
        #expect(spec.addBosToken && !spec.addEosToken && !spec.addSpacePrefix)
        #expect(model.chatTemplate == "{{ x }}")
        #expect(model.metadata[SafetensorsReader.eosTokenIdsKey] == "2,0")
        #expect(model.metadata[SafetensorsReader.tokenizerUnsupportedKey] == nil)
    }

    @Test func generationConfigOverridesAnEOSItDoesNotList() throws {
        let dir = try temporaryDirectory("generation")
        try HFTestModel().write(to: dir)
        try Self.writeTokenizer(into: dir, merges: ["a b"])
        try writeJSON(["eos_token": "<|im_end|>", "chat_template": "plain"], to: dir + "/tokenizer_config.json")
        try writeJSON(["eos_token_id": 0], to: dir + "/generation_config.json")
        let model = try SafetensorsReader.read(path: dir)
        #expect(model.tokenizer?.eosTokenId == 0)
        #expect(model.tokenizer?.addBosToken == false)
        #expect(model.chatTemplate == "plain")
        #expect(model.metadata[SafetensorsReader.eosTokenIdsKey] == nil)
    }

    @Test func namesThePreTokenizer() throws {
        let bosFirst: [String: Any] = ["type": "Sequence", "processors": [
            ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            ["type": "TemplateProcessing", "single": [["SpecialToken": ["id": "<|im_start|>", "type_id": 0]],
                                                      ["Sequence": ["id": "A", "type_id": 0]]]],
        ]]
        let cases: [([String: Any], [String: Any]?, String, Bool)] = [
            (TokenizerJSON.gpt2PreTokenizer, nil, "gpt2", false),
            (TokenizerJSON.llama3PreTokenizer, bosFirst, "llama-bpe", true),
        ]
        for (pre, post, name, addBos) in cases {
            let dir = try temporaryDirectory("pre")
            try HFTestModel().write(to: dir)
            try Self.writeTokenizer(into: dir, merges: ["a b"], preTokenizer: pre, postProcessor: post)
            try writeJSON(["bos_token": "<|im_start|>"], to: dir + "/tokenizer_config.json")
            let spec = try #require(try SafetensorsReader.read(path: dir).tokenizer)
            #expect(spec.preTokenizer == name)
            #expect(spec.addBosToken == addBos, "\(name)")
        }
    }

    @Test func keepsTheReasonWhenTheTokenizerIsUnsupported() throws {
        let metaspace: [String: Any] = ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"]
        let dir = try temporaryDirectory("metaspace")
        try HFTestModel().write(to: dir)
        try Self.writeTokenizer(into: dir, merges: ["a b"], preTokenizer: metaspace, byteFallback: true)
        try "{{ messages }}".write(toFile: dir + "/chat_template.jinja", atomically: true, encoding: .utf8)
        let model = try SafetensorsReader.read(path: dir)
        #expect(model.tokenizer == nil)
        let reason = try #require(model.metadata[SafetensorsReader.tokenizerUnsupportedKey])
        #expect(reason.contains("byte fallback") && reason.contains("Metaspace") && reason.contains("tokenizer.json"))
        #expect(model.chatTemplate == "{{ messages }}")

        let bare = try temporaryDirectory("no-tokenizer")
        try HFTestModel().write(to: bare)
        let untokenized = try SafetensorsReader.read(path: bare)
        #expect(untokenized.tokenizer == nil && untokenized.chatTemplate == nil)
        #expect(untokenized.metadata[SafetensorsReader.tokenizerUnsupportedKey]?.contains("no tokenizer.json") == true)
    }

    @Test func rejectsInconsistentTokenizerFiles() throws {
        let dir = try temporaryDirectory("bad-tokenizer")
        try HFTestModel().write(to: dir)
        try Self.writeTokenizer(into: dir, merges: ["ab"])
        guard case .malformed(let file, let reason)? = thrownModelError({ try SafetensorsReader.read(path: dir) }) else {
            Issue.record("expected malformed")
            return
        }
        #expect(file.hasSuffix("tokenizer.json") && reason.contains("merge 0"))

        try Self.writeTokenizer(into: dir, merges: ["a b"])
        try writeJSON(["eos_token": "<|missing|>"], to: dir + "/tokenizer_config.json")
        guard case .malformed(let file2, let reason2)? = thrownModelError({ try SafetensorsReader.read(path: dir) }) else {
            Issue.record("expected malformed")
            return
        }
        #expect(file2.hasSuffix("tokenizer_config.json") && reason2.contains("<|missing|>"))
    }

    // MARK: errors

    @Test func rejectsMissingFiles() throws {
        let dir = try temporaryDirectory("no-config")
        try SafetensorsWriter.write(HFTestModel().tensors().map(\.tensor), to: dir + "/model.safetensors")
        guard case .cannotOpen(let file, _)? = thrownModelError({ try SafetensorsReader.read(path: dir) }) else {
            Issue.record("expected cannotOpen")
            return
        }
        #expect(file == dir + "/config.json")

        let empty = try temporaryDirectory("no-weights")
        try writeJSON(HFTestModel().config, to: empty + "/config.json")
        guard case .cannotOpen(let weights, _)? = thrownModelError({ try SafetensorsReader.read(path: empty) }) else {
            Issue.record("expected cannotOpen")
            return
        }
        #expect(weights == empty + "/model.safetensors")
        #expect(thrownModelError({ try SafetensorsReader.read(path: empty + "/absent") }) != nil)
    }

    @Test(arguments: ["I8", "F64", "F8_E4M3", "Q4"])
    func namesAnUnsupportedDtype(dtype: String) throws {
        let dir = try temporaryDirectory("dtype")
        var tensors = HFTestModel().tensors().map(\.tensor)
        tensors[1] = SafetensorsTensor(name: tensors[1].name, dtype: dtype, shape: [16], data: [UInt8](repeating: 0, count: 16))
        try writeJSON(HFTestModel().config, to: dir + "/config.json")
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
        #expect(throws: ModelError.unsupportedTensorType(file: dir + "/model.safetensors", tensor: "model.norm.weight",
                                                         type: dtype)) {
            try SafetensorsReader.read(path: dir)
        }
    }

    /// A directory whose model.safetensors holds `bytes`, beside a valid config.json.
    static func checkpoint(_ bytes: [UInt8]) throws -> String {
        let dir = try temporaryDirectory("corrupt")
        try writeJSON(HFTestModel().config, to: dir + "/config.json")
        try writeBytes(bytes, to: dir + "/model.safetensors")
        return dir
    }

    @Test func rejectsTruncatedHeadersAndData() throws {
        let good = try SafetensorsWriter.file(HFTestModel().tensors().map(\.tensor))
        let headerLength = Int(good[0]) | Int(good[1]) << 8 | Int(good[2]) << 16
        let cuts: [(Int, String)] = [(0, "header length"), (5, "header length"), (8 + headerLength / 2, "JSON header"),
                                     (good.count - 1, "tensor")]
        for (cut, what) in cuts {
            let dir = try Self.checkpoint(Array(good[..<cut]))
            guard case .truncated(let file, let found, _, let available)? =
                    thrownModelError({ try SafetensorsReader.read(path: dir) }) else {
                Issue.record("cut at \(cut): expected truncated")
                continue
            }
            #expect(file.hasSuffix("model.safetensors") && found.hasPrefix(what) && available == cut, "\(found)")
        }
    }

    @Test func rejectsCorruptHeaders() throws {
        let f32 = #"{"dtype":"F32","shape":[2,2],"data_offsets":"#
        let cases: [([UInt8], String)] = [
            (littleEndianBytes(UInt64(1) << 40) + [UInt8](repeating: 0x20, count: 64), "exceeds"),
            (SafetensorsWriter.file(header: #"{"a": "#), "invalid JSON"),
            (SafetensorsWriter.file(header: "[1, 2]"), "not a JSON object"),
            (SafetensorsWriter.file(header: #"{"a":\#(f32)[0,16]},"b":\#(f32)[8,24]}}"#, data: .init(repeating: 0, count: 24)),
             "overlap"),
            (SafetensorsWriter.file(header: #"{"a":\#(f32)[0,12]}}"#, data: .init(repeating: 0, count: 16)), "spans 12 bytes"),
            (SafetensorsWriter.file(header: #"{"a":\#(f32)[16,0]}}"#, data: .init(repeating: 0, count: 16)), "data_offsets"),
            (SafetensorsWriter.file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#), "shape"),
            (SafetensorsWriter.file(header: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#),
             "more than fits"),
            (SafetensorsWriter.file(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#), "no dtype"),
            (SafetensorsWriter.file(header: #"{"a":\#(f32)[0,16]},"a":\#(f32)[16,32]}}"#, data: .init(repeating: 0, count: 32)),
             "duplicate key"),
        ]
        for (bytes, fragment) in cases {
            let dir = try Self.checkpoint(bytes)
            guard case .malformed(let file, let reason)? = thrownModelError({ try SafetensorsReader.read(path: dir) }) else {
                Issue.record("expected malformed containing '\(fragment)'")
                continue
            }
            #expect(file.hasSuffix("model.safetensors") && reason.contains(fragment), "\(reason)")
        }
    }

    @Test func rejectsWrongShapesAndUnexpectedOrMissingTensors() throws {
        let spec = HFTestModel()
        func read(_ edit: (inout [SafetensorsTensor]) -> Void) throws -> ModelError? {
            let dir = try temporaryDirectory("shapes")
            var tensors = spec.tensors().map(\.tensor)
            edit(&tensors)
            try writeJSON(spec.config, to: dir + "/config.json")
            try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
            return thrownModelError { try SafetensorsReader.read(path: dir) }
        }
        let wrong = try read { tensors in
            let k = tensors.firstIndex { $0.name == "model.layers.1.self_attn.k_proj.weight" }!
            tensors[k] = SafetensorsTensor(name: tensors[k].name, shape: [16, 16], values: .init(repeating: 0, count: 256), type: .f32)
        }
        guard case .wrongShape(_, "blk.1.attn_k.weight", [8, 16], [16, 16])? = wrong else {
            Issue.record("expected wrongShape, got \(String(describing: wrong))")
            return
        }
        let unexpected = try read { tensors in
            tensors.append(SafetensorsTensor(name: "model.layers.0.self_attn.o_proj.bias", shape: [16],
                                             values: .init(repeating: 0, count: 16), type: .f32))
        }
        guard case .malformed(_, let reason)? = unexpected, reason.contains("o_proj.bias") else {
            Issue.record("expected an unexpected-tensor error, got \(String(describing: unexpected))")
            return
        }
        let outOfRange = try read { tensors in
            tensors.append(SafetensorsTensor(name: "model.layers.2.mlp.up_proj.weight", shape: [24, 16],
                                             values: .init(repeating: 0, count: 384), type: .f32))
        }
        guard case .malformed? = outOfRange else {
            Issue.record("expected a layer beyond num_hidden_layers to be rejected")
            return
        }
        let missing = try read { tensors in tensors.removeAll { $0.name == "model.layers.1.mlp.down_proj.weight" } }
        guard case .missingTensor(_, "blk.1.ffn_down.weight")? = missing else {
            Issue.record("expected missingTensor, got \(String(describing: missing))")
            return
        }
        let ignored = try temporaryDirectory("inv-freq")
        var tensors = spec.tensors().map(\.tensor)
        tensors.append(SafetensorsTensor(name: "model.layers.0.self_attn.rotary_emb.inv_freq", shape: [2],
                                         values: [1, 0.5], type: .f32))
        try writeJSON(spec.config, to: ignored + "/config.json")
        try SafetensorsWriter.write(tensors, to: ignored + "/model.safetensors")
        #expect(try SafetensorsReader.read(path: ignored).tensors.count == 3 + 9 * 2)
    }

    @Test func rejectsBadIndexes() throws {
        let dir = try temporaryDirectory("index")
        try HFTestModel().write(to: dir, shards: 2)
        let indexPath = dir + "/model.safetensors.index.json"
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: indexPath))) as! [String: Any]
        var weightMap = index["weight_map"] as! [String: String]
        weightMap["model.layers.0.mlp.extra.weight"] = "model-00001-of-00002.safetensors"
        try writeJSON(["weight_map": weightMap], to: indexPath)
        #expect(throws: ModelError.missingTensor(file: dir + "/model-00001-of-00002.safetensors",
                                                 tensor: "model.layers.0.mlp.extra.weight")) {
            try SafetensorsReader.read(path: dir)
        }
        weightMap["model.layers.0.mlp.extra.weight"] = "../elsewhere.safetensors"
        try writeJSON(["weight_map": weightMap], to: indexPath)
        guard case .malformed(let file, _)? = thrownModelError({ try SafetensorsReader.read(path: dir) }) else {
            Issue.record("expected malformed")
            return
        }
        #expect(file == indexPath)
    }

    @Test func rejectsUnsupportedConfigurations() throws {
        func read(_ edit: (inout [String: Any]) -> Void) throws -> ModelError? {
            let dir = try temporaryDirectory("config")
            let spec = HFTestModel()
            try spec.write(to: dir)
            var config = spec.config
            edit(&config)
            try writeJSON(config, to: dir + "/config.json")
            return thrownModelError { try SafetensorsReader.read(path: dir) }
        }
        guard case .unsupportedArchitecture(let file, "GPT2LMHeadModel")? = try read({ $0["architectures"] = ["GPT2LMHeadModel"] }) else {
            Issue.record("expected unsupportedArchitecture")
            return
        }
        #expect(file.hasSuffix("/config.json"))
        guard case .missingMetadata(_, "hidden_size")? = try read({ $0["hidden_size"] = nil }) else {
            Issue.record("expected missingMetadata hidden_size")
            return
        }
        guard case .invalidConfig(_, let scaling)? = try read({ $0["rope_scaling"] = ["rope_type": "llama3", "factor": 8.0] }),
              scaling.contains("llama3") else {
            Issue.record("expected rope_scaling to be rejected")
            return
        }
        guard case .invalidConfig(_, let type)? = try read({ $0["num_hidden_layers"] = true }), type.contains("integer") else {
            Issue.record("expected a boolean layer count to be rejected")
            return
        }
        guard case .invalidConfig? = try read({ $0["num_key_value_heads"] = 3 }) else {
            Issue.record("expected 4 heads over 3 kv heads to be rejected")
            return
        }
    }

    @Test func boundsTheContextBySlidingWindow() throws {
        let dir = try temporaryDirectory("window")
        var spec = HFTestModel()
        spec.architecture = "MistralForCausalLM"
        try spec.write(to: dir)
        var config = spec.config
        config["sliding_window"] = 64
        try writeJSON(config, to: dir + "/config.json")
        #expect(try SafetensorsReader.read(path: dir).config.contextLength == 64)
        config["sliding_window"] = NSNull()
        try writeJSON(config, to: dir + "/config.json")
        #expect(try SafetensorsReader.read(path: dir).config.contextLength == 128)
    }

    // MARK: cross-format

    /// HF row order of one head from GGUF's: GGUF interleaves the head's first and second halves
    /// (row 2i is HF row i, row 2i+1 is HF row i + d/2).
    static func rotateHalfRows(_ w: [Float], heads: Int, headDim: Int, columns: Int) -> [Float] {
        var out = w
        for h in 0..<heads {
            for i in 0..<headDim / 2 {
                for j in 0..<2 {
                    let from = (h * headDim + 2 * i + j) * columns
                    let to = (h * headDim + j * headDim / 2 + i) * columns
                    out[to..<to + columns] = w[from..<from + columns]
                }
            }
        }
        return out
    }

    /// The default GGUF model, rewritten as an fp32 Hugging Face checkpoint, gives the same logits.
    @Test func matchesTheDefaultGGUFModelThroughTheEngine() throws {
        let gguf = try GGUFReader.read(path: try defaultModelPath())
        let c = gguf.config
        let dir = try temporaryDirectory("smollm2-hf")
        defer { try? FileManager.default.removeItem(atPath: dir) }

        var tensors: [SafetensorsTensor] = []
        func add(_ hf: String, _ canonical: String, permuteHeads: Int? = nil) throws {
            let record = try gguf.tensor(canonical)
            var values = record.floats()
            if let heads = permuteHeads {
                values = Self.rotateHalfRows(values, heads: heads, headDim: c.headDim, columns: record.shape[1])
            }
            tensors.append(SafetensorsTensor(name: hf, shape: record.shape, values: values, type: .f32))
        }
        try add("model.embed_tokens.weight", TensorName.tokenEmbedding)
        try add("model.norm.weight", TensorName.outputNorm)
        for l in 0..<c.layerCount {
            let p = "model.layers.\(l)."
            try add(p + "input_layernorm.weight", TensorName.attentionNorm(l))
            try add(p + "post_attention_layernorm.weight", TensorName.ffnNorm(l))
            try add(p + "self_attn.q_proj.weight", TensorName.weight(.q, layer: l), permuteHeads: c.headCount)
            try add(p + "self_attn.k_proj.weight", TensorName.weight(.k, layer: l), permuteHeads: c.kvHeadCount)
            try add(p + "self_attn.v_proj.weight", TensorName.weight(.v, layer: l))
            try add(p + "self_attn.o_proj.weight", TensorName.weight(.o, layer: l))
            try add(p + "mlp.gate_proj.weight", TensorName.weight(.gate, layer: l))
            try add(p + "mlp.up_proj.weight", TensorName.weight(.up, layer: l))
            try add(p + "mlp.down_proj.weight", TensorName.weight(.down, layer: l))
        }
        try SafetensorsWriter.writeSharded(tensors, directory: dir, shards: 3)
        tensors = []
        try writeJSON(["architectures": ["LlamaForCausalLM"], "vocab_size": c.vocabSize, "hidden_size": c.dim,
                       "intermediate_size": c.hiddenDim, "num_hidden_layers": c.layerCount,
                       "num_attention_heads": c.headCount, "num_key_value_heads": c.kvHeadCount,
                       "max_position_embeddings": c.contextLength, "rope_theta": Double(c.ropeTheta),
                       "rms_norm_eps": Double(c.rmsNormEpsilon), "tie_word_embeddings": c.tiedEmbeddings,
                       "hidden_act": "silu"], to: dir + "/config.json")

        let vocab = try #require(gguf.tokenizer)
        let types = try #require(vocab.tokenTypes)
        let added = types.indices.filter { types[$0] == .control }.map { (id: $0, content: vocab.tokens[$0], special: true) }
        try writeJSON(TokenizerJSON.byteLevel(vocab: vocab.tokens, merges: vocab.merges ?? [], added: added,
                                              preTokenizer: TokenizerJSON.smollmPreTokenizer),
                      to: dir + "/tokenizer.json")
        let name = { (id: Int?) -> Any in id.map { vocab.tokens[$0] } ?? NSNull() }
        try writeJSON(["bos_token": name(vocab.bosTokenId), "eos_token": name(vocab.eosTokenId),
                       "pad_token": name(vocab.paddingTokenId), "unk_token": name(vocab.unknownTokenId),
                       "add_bos_token": vocab.addBosToken, "chat_template": gguf.chatTemplate.map { $0 as Any } ?? NSNull()],
                      to: dir + "/tokenizer_config.json")

        let hf = try SafetensorsReader.read(path: dir)
        var expectedConfig = c
        expectedConfig.ropeStyle = .halfSplit
        #expect(hf.config == expectedConfig)
        #expect(hf.tokenizer == gguf.tokenizer)
        #expect(hf.chatTemplate == gguf.chatTemplate)

        let tokens = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
        let want = try ReferenceModel(gguf).logits(tokens: tokens)
        let got = try ReferenceModel(hf).logits(tokens: tokens)
        try #require(got.count == want.count && want.count == tokens.count * c.vocabSize)
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-3, "max abs logit difference \(worst)")
        func argmax(_ logits: [Float], position p: Int) -> Int {
            let row = logits[p * c.vocabSize..<(p + 1) * c.vocabSize]
            return row.indices.max { row[$0] < row[$1] }! - row.startIndex
        }
        for p in tokens.indices {
            #expect(argmax(got, position: p) == argmax(want, position: p), "argmax at position \(p)")
        }
    }
}
