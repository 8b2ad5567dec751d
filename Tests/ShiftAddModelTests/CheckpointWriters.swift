import Foundation
import ShiftAddModel
import ShiftAddTestSupport

// Writers of small Hugging Face and llama2.c checkpoints for the reader tests.

/// A fresh empty directory under the test temporary folder.
func temporaryDirectory(_ name: String) throws -> String {
    let path = temporaryPath(name)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func writeJSON(_ object: Any, to path: String) throws {
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
}

func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Little-endian fp32 bytes; the hosts the tests run on (x86-64, arm64) store floats that way.
func floatBytes(_ values: [Float]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}

// MARK: - safetensors

enum SafetensorsDType: String, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    /// Little-endian bytes of `values`, which must be exactly representable in this type.
    func encode(_ values: [Float]) -> [UInt8] {
        switch self {
        case .f32: return floatBytes(values)
        case .bf16:
            return values.flatMap { v in
                precondition(v.bitPattern & 0xFFFF == 0, "\(v) is not a bfloat16")
                return littleEndianBytes(UInt16(v.bitPattern >> 16))
            }
        case .f16: return values.flatMap { littleEndianBytes(Self.exactHalf($0)) }
        }
    }

    /// IEEE half bits of a float that a half holds exactly (zero or normal).
    static func exactHalf(_ v: Float) -> UInt16 {
        let sign: UInt16 = v.sign == .minus ? 0x8000 : 0
        guard v != 0 else { return sign }
        let exponent = Int(v.exponent) + 15
        let mantissa = v.significandBitPattern >> 13
        precondition((1...30).contains(exponent) && mantissa << 13 == v.significandBitPattern, "\(v) is not a half")
        return sign | UInt16(exponent) << 10 | UInt16(mantissa)
    }

    /// Reference decoding of half bits, written independently of the library's.
    static func halfValue(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int(h >> 10 & 0x1F), mantissa = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * Float(sign: .plus, exponent: -24, significand: 1)
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

/// One tensor of a safetensors file: its header entry and raw bytes.
struct SafetensorsTensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var data: [UInt8]

    init(name: String, dtype: String, shape: [Int], data: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    init(name: String, shape: [Int], values: [Float], type: SafetensorsDType) {
        self.init(name: name, dtype: type.rawValue, shape: shape, data: type.encode(values))
    }
}

enum SafetensorsWriter {
    /// A file from a literal header and data section.
    static func file(header: String, data: [UInt8] = []) -> [UInt8] {
        littleEndianBytes(UInt64(header.utf8.count)) + Array(header.utf8) + data
    }

    /// The length field and header of a well-formed file whose tensors are packed in order, the
    /// header padded to 8 bytes as the reference writer does.
    static func header(_ tensors: [SafetensorsTensor], metadata: [String: String] = ["format": "pt"]) throws -> [UInt8] {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for t in tensors {
            header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.data.count]]
            offset += t.data.count
        }
        var text = String(decoding: try JSONSerialization.data(withJSONObject: header), as: UTF8.self)
        while text.utf8.count % 8 != 0 { text += " " }
        return file(header: text)
    }

    static func file(_ tensors: [SafetensorsTensor]) throws -> [UInt8] {
        try header(tensors) + tensors.flatMap(\.data)
    }

    static func write(_ tensors: [SafetensorsTensor], to path: String) throws {
        try Data().write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: try header(tensors))
        for t in tensors { try handle.write(contentsOf: t.data) }
    }

    /// model-0000i-of-0000n.safetensors files plus model.safetensors.index.json, tensors dealt round-robin.
    static func writeSharded(_ tensors: [SafetensorsTensor], directory: String, shards: Int) throws {
        var weightMap: [String: String] = [:]
        for shard in 0..<shards {
            let name = String(format: "model-%05d-of-%05d.safetensors", shard + 1, shards)
            let members = tensors.enumerated().filter { $0.offset % shards == shard }.map(\.element)
            for t in members { weightMap[t.name] = name }
            try write(members, to: directory + "/" + name)
        }
        let total = tensors.reduce(0) { $0 + $1.data.count }
        try writeJSON(["metadata": ["total_size": total], "weight_map": weightMap],
                      to: directory + "/model.safetensors.index.json")
    }
}

/// A small random Hugging Face checkpoint. Weights are multiples of 1/256 below 1 in magnitude, so
/// F32, F16 and BF16 all hold them exactly.
struct HFTestModel {
    var architecture = "LlamaForCausalLM"
    var vocab = 40, dim = 16, hidden = 24, layers = 2, heads = 4, kvHeads = 2
    var headDim: Int?
    var tieWordEmbeddings = false
    var writeLMHead = true
    var dtype = SafetensorsDType.f32
    var seed: UInt64 = 7

    var attentionBias: Bool { architecture == "Qwen2ForCausalLM" }
    var resolvedHeadDim: Int { headDim ?? dim / heads }

    /// Each tensor under its Hugging Face name, with the canonical name the reader should give it.
    func tensors() -> [(tensor: SafetensorsTensor, canonical: String?, values: [Float])] {
        var rng = TestRandom(seed: seed)
        var out: [(SafetensorsTensor, String?, [Float])] = []
        func add(_ name: String, _ canonical: String?, _ shape: [Int]) {
            let values = (0..<shape.reduce(1, *)).map { _ in Float(Int(rng.next() % 511) - 255) / 256 }
            out.append((SafetensorsTensor(name: name, shape: shape, values: values, type: dtype), canonical, values))
        }
        let qDim = heads * resolvedHeadDim, kvDim = kvHeads * resolvedHeadDim
        add("model.embed_tokens.weight", "token_embd.weight", [vocab, dim])
        add("model.norm.weight", "output_norm.weight", [dim])
        if writeLMHead { add("lm_head.weight", tieWordEmbeddings ? nil : "output.weight", [vocab, dim]) }
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            add(p + "input_layernorm.weight", "blk.\(l).attn_norm.weight", [dim])
            add(p + "post_attention_layernorm.weight", "blk.\(l).ffn_norm.weight", [dim])
            add(p + "self_attn.q_proj.weight", "blk.\(l).attn_q.weight", [qDim, dim])
            add(p + "self_attn.k_proj.weight", "blk.\(l).attn_k.weight", [kvDim, dim])
            add(p + "self_attn.v_proj.weight", "blk.\(l).attn_v.weight", [kvDim, dim])
            add(p + "self_attn.o_proj.weight", "blk.\(l).attn_output.weight", [dim, qDim])
            if attentionBias {
                add(p + "self_attn.q_proj.bias", "blk.\(l).attn_q.bias", [qDim])
                add(p + "self_attn.k_proj.bias", "blk.\(l).attn_k.bias", [kvDim])
                add(p + "self_attn.v_proj.bias", "blk.\(l).attn_v.bias", [kvDim])
            }
            add(p + "mlp.gate_proj.weight", "blk.\(l).ffn_gate.weight", [hidden, dim])
            add(p + "mlp.up_proj.weight", "blk.\(l).ffn_up.weight", [hidden, dim])
            add(p + "mlp.down_proj.weight", "blk.\(l).ffn_down.weight", [dim, hidden])
        }
        return out
    }

    var config: [String: Any] {
        var c: [String: Any] = [
            "architectures": [architecture], "vocab_size": vocab, "hidden_size": dim, "intermediate_size": hidden,
            "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kvHeads,
            "max_position_embeddings": 128, "rope_theta": 500000.0, "rms_norm_eps": 1e-5,
            "tie_word_embeddings": tieWordEmbeddings, "hidden_act": "silu", "_name_or_path": "test/tiny",
        ]
        if let headDim { c["head_dim"] = headDim }
        return c
    }

    /// Writes config.json and the weights (one file, or `shards` files with an index) into `directory`.
    func write(to directory: String, shards: Int = 1) throws {
        try writeJSON(config, to: directory + "/config.json")
        let all = tensors().map(\.tensor)
        if shards == 1 {
            try SafetensorsWriter.write(all, to: directory + "/model.safetensors")
        } else {
            try SafetensorsWriter.writeSharded(all, directory: directory, shards: shards)
        }
    }
}

// MARK: - tokenizer.json

enum TokenizerJSON {
    static var smollmPreTokenizer: [String: Any] { [
        "type": "Sequence", "pretokenizers": [
            ["type": "Digits", "individual_digits": true],
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
        ],
    ] }
    static var gpt2PreTokenizer: [String: Any] { [
        "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true,
    ] }
    static var llama3PreTokenizer: [String: Any] { [
        "type": "Sequence", "pretokenizers": [
            ["type": "Split", "behavior": "Isolated", "invert": false, "pattern": ["Regex":
                #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#]],
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
        ],
    ] }

    /// A byte-level BPE tokenizer.json. `merges` entries are written as given (strings or pairs).
    static func byteLevel(vocab: [String], merges: [Any], added: [(id: Int, content: String, special: Bool)],
                          preTokenizer: [String: Any], postProcessor: [String: Any]? = nil,
                          byteFallback: Bool = false) -> [String: Any] {
        var vocabMap: [String: Int] = [:]
        for (id, token) in vocab.enumerated() { vocabMap[token] = id }
        return [
            "version": "1.0",
            "added_tokens": added.map { ["id": $0.id, "content": $0.content, "special": $0.special,
                                         "single_word": false, "lstrip": false, "rstrip": false, "normalized": false] },
            "normalizer": NSNull(),
            "pre_tokenizer": preTokenizer,
            "post_processor": postProcessor ?? ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false,
                                                "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "byte_fallback": byteFallback,
                      "vocab": vocabMap, "merges": merges],
        ]
    }
}

// MARK: - llama2.c

/// A small random llama2.c checkpoint, laid out as llama2.c's legacy exporter writes it.
struct Llama2cTestModel {
    var dim = 16, hidden = 24, layers = 2, heads = 4, kvHeads = 2, vocab = 32, seqLen = 8
    var sharedClassifier = true
    var seed: UInt64 = 3

    var header: [Int32] {
        [dim, hidden, layers, heads, kvHeads, sharedClassifier ? vocab : -vocab, seqLen].map { Int32($0) }
    }

    /// The file bytes and, for checking, every tensor's values by canonical name.
    func build() -> (bytes: [UInt8], expected: [String: [Float]]) {
        var rng = TestRandom(seed: seed)
        var bytes = header.flatMap { littleEndianBytes($0) }
        var expected: [String: [Float]] = [:]
        func block(_ count: Int) -> [Float] {
            let values = (0..<count).map { _ in rng.normal() }
            bytes += floatBytes(values)
            return values
        }
        // A [layers, per] block whose layer slices are the tensors `name(layer)`.
        func stacked(_ per: Int, _ name: (Int) -> String) {
            let values = block(layers * per)
            for l in 0..<layers { expected[name(l)] = Array(values[l * per..<(l + 1) * per]) }
        }
        let kvDim = dim / heads * kvHeads
        expected["token_embd.weight"] = block(vocab * dim)
        stacked(dim) { "blk.\($0).attn_norm.weight" }
        stacked(dim * dim) { "blk.\($0).attn_q.weight" }
        stacked(kvDim * dim) { "blk.\($0).attn_k.weight" }
        stacked(kvDim * dim) { "blk.\($0).attn_v.weight" }
        stacked(dim * dim) { "blk.\($0).attn_output.weight" }
        stacked(dim) { "blk.\($0).ffn_norm.weight" }
        stacked(hidden * dim) { "blk.\($0).ffn_gate.weight" }
        stacked(dim * hidden) { "blk.\($0).ffn_down.weight" }
        stacked(hidden * dim) { "blk.\($0).ffn_up.weight" }
        expected["output_norm.weight"] = block(dim)
        _ = block(seqLen * (dim / heads / 2) * 2)
        if !sharedClassifier { expected["output.weight"] = block(vocab * dim) }
        return (bytes, expected)
    }

    /// A tokenizer.bin as llama2.c's exporter writes it: bos/eos wrapped in newlines, `▁` as a space.
    static func tokenizerBin(pieces: [(score: Float, bytes: [UInt8])], maxLength: Int32? = nil) -> [UInt8] {
        var out = littleEndianBytes(maxLength ?? Int32(pieces.map(\.bytes.count).max() ?? 0))
        for p in pieces {
            out += littleEndianBytes(p.score.bitPattern) + littleEndianBytes(Int32(p.bytes.count)) + p.bytes
        }
        return out
    }

    /// `count` pieces: <unk>, bos, eos, three byte tokens, then words, some with leading spaces.
    static func pieces(count: Int) -> [(score: Float, bytes: [UInt8])] {
        let fixed = ["<unk>", "\n<s>\n", "\n</s>\n", "<0x00>", "<0x0A>", "<0xFF>"]
        return (0..<count).map { id in
            let text = id < fixed.count ? fixed[id] : (id % 2 == 0 ? " w\(id)" : "é\(id)")
            return (Float(-id) / 4, Array(text.utf8))
        }
    }
}
