import Foundation
import ShiftAddModel

/// Writes small GGUF files for tests: any metadata, any tensors (raw bytes), chosen alignment.
public struct GGUFBuilder {
    public enum Value {
        case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), f32(Float), bool(Bool)
        case string(String), u64(UInt64), i64(Int64), f64(Double), array(kind: UInt32, [Value])

        var kind: UInt32 {
            switch self {
            case .u8: 0
            case .i8: 1
            case .u16: 2
            case .i16: 3
            case .u32: 4
            case .i32: 5
            case .f32: 6
            case .bool: 7
            case .string: 8
            case .array: 9
            case .u64: 10
            case .i64: 11
            case .f64: 12
            }
        }
    }

    public var version: UInt32 = 3
    public var alignment = 32
    public var metadata: [(String, Value)] = []
    public var tensors: [(name: String, ne: [Int], type: UInt32, data: [UInt8])] = []

    public init() {}

    public mutating func add(_ key: String, _ value: Value) { metadata.append((key, value)) }

    public mutating func addF32(_ name: String, shape: [Int], _ values: [Float]) {
        let data = values.withUnsafeBytes { Array($0) }
        tensors.append((name, Array(shape.reversed()), 0, data))
    }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func putValue(_ v: Value) {
            switch v {
            case let .u8(x): put(x)
            case let .i8(x): put(x)
            case let .u16(x): put(x)
            case let .i16(x): put(x)
            case let .u32(x): put(x)
            case let .i32(x): put(x)
            case let .f32(x): put(x.bitPattern)
            case let .bool(x): put(UInt8(x ? 1 : 0))
            case let .string(x): putString(x)
            case let .u64(x): put(x)
            case let .i64(x): put(x)
            case let .f64(x): put(x.bitPattern)
            case let .array(kind, items):
                put(kind)
                put(UInt64(items.count))
                items.forEach(putValue)
            }
        }
        put(version)
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (k, v) in metadata {
            putString(k)
            put(v.kind)
            putValue(v)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, o) in zip(tensors, offsets) {
            putString(t.name)
            put(UInt32(t.ne.count))
            t.ne.forEach { put(UInt64($0)) }
            put(t.type)
            put(UInt64(o))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out.append(contentsOf: t.data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    public func write(to path: String) throws {
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
    }

    /// A complete tiny LLaMA model with random weights and a byte-level vocabulary.
    public static func tinyModel(dim: Int = 16, hidden: Int = 24, layers: Int = 2, heads: Int = 4, kvHeads: Int = 2,
                          vocab: Int = 40, tied: Bool = true, seed: UInt64 = 1) -> GGUFBuilder {
        var rng = TestRandom(seed: seed)
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("general.name", .string("tiny"))
        b.add("llama.block_count", .u32(UInt32(layers)))
        b.add("llama.context_length", .u32(64))
        b.add("llama.embedding_length", .u32(UInt32(dim)))
        b.add("llama.feed_forward_length", .u32(UInt32(hidden)))
        b.add("llama.attention.head_count", .u32(UInt32(heads)))
        b.add("llama.attention.head_count_kv", .u32(UInt32(kvHeads)))
        b.add("llama.rope.freq_base", .f32(10000))
        b.add("llama.attention.layer_norm_rms_epsilon", .f32(1e-5))
        b.addTinyVocabulary(vocab)
        let kvDim = dim / heads * kvHeads
        func random(_ n: Int, _ scale: Float = 0.3) -> [Float] { (0..<n).map { _ in rng.normal() * scale } }
        b.addF32("token_embd.weight", shape: [vocab, dim], random(vocab * dim, 1))
        b.addF32("output_norm.weight", shape: [dim], random(dim, 0.2).map { 1 + $0 })
        if !tied { b.addF32("output.weight", shape: [vocab, dim], random(vocab * dim)) }
        for l in 0..<layers {
            b.addF32("blk.\(l).attn_norm.weight", shape: [dim], random(dim, 0.2).map { 1 + $0 })
            b.addF32("blk.\(l).ffn_norm.weight", shape: [dim], random(dim, 0.2).map { 1 + $0 })
            b.addF32("blk.\(l).attn_q.weight", shape: [dim, dim], random(dim * dim))
            b.addF32("blk.\(l).attn_k.weight", shape: [kvDim, dim], random(kvDim * dim))
            b.addF32("blk.\(l).attn_v.weight", shape: [kvDim, dim], random(kvDim * dim))
            b.addF32("blk.\(l).attn_output.weight", shape: [dim, dim], random(dim * dim))
            b.addF32("blk.\(l).ffn_gate.weight", shape: [hidden, dim], random(hidden * dim))
            b.addF32("blk.\(l).ffn_up.weight", shape: [hidden, dim], random(hidden * dim))
            b.addF32("blk.\(l).ffn_down.weight", shape: [dim, hidden], random(dim * hidden))
        }
        return b
    }

    /// The byte-level vocabulary of the tiny models: tokens "t", "1" and "t1" make the one merge
    /// "t 1" valid; the rest are placeholders.
    mutating func addTinyVocabulary(_ vocab: Int) {
        add("tokenizer.ggml.model", .string("gpt2"))
        add("tokenizer.ggml.pre", .string("gpt2"))
        let names = ["t", "1", "t1"] + (3..<vocab).map { "t\($0)" }
        add("tokenizer.ggml.tokens", .array(kind: 8, names.prefix(vocab).map { .string($0) }))
        add("tokenizer.ggml.merges", .array(kind: 8, [.string("t 1")]))
        add("tokenizer.ggml.eos_token_id", .u32(2))
    }

    /// A complete tiny Gemma 3 with random weights and the byte-level vocabulary of `tinyModel`:
    /// heads of `headDim` (so q is wider than the model), layers 0-4 of every 6 attending to a
    /// sliding `window`, the head tied to the embedding.
    public static func tinyGemma3(dim: Int = 16, hidden: Int = 24, layers: Int = 7, heads: Int = 4, kvHeads: Int = 1,
                                  headDim: Int = 8, window: Int = 4, vocab: Int = 40, seed: UInt64 = 3) -> GGUFBuilder {
        var rng = TestRandom(seed: seed)
        var b = GGUFBuilder()
        b.add("general.architecture", .string("gemma3"))
        b.add("general.name", .string("tiny gemma"))
        b.add("gemma3.block_count", .u32(UInt32(layers)))
        b.add("gemma3.context_length", .u32(64))
        b.add("gemma3.embedding_length", .u32(UInt32(dim)))
        b.add("gemma3.feed_forward_length", .u32(UInt32(hidden)))
        b.add("gemma3.attention.head_count", .u32(UInt32(heads)))
        b.add("gemma3.attention.head_count_kv", .u32(UInt32(kvHeads)))
        b.add("gemma3.attention.key_length", .u32(UInt32(headDim)))
        b.add("gemma3.attention.value_length", .u32(UInt32(headDim)))
        b.add("gemma3.attention.sliding_window", .u32(UInt32(window)))
        b.add("gemma3.rope.freq_base", .f32(1_000_000))
        b.add("gemma3.attention.layer_norm_rms_epsilon", .f32(1e-6))
        b.addTinyVocabulary(vocab)
        // Like Gemma's tokenizer, a BOS before every text.
        b.add("tokenizer.ggml.bos_token_id", .u32(1))
        b.add("tokenizer.ggml.add_bos_token", .bool(true))
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        func random(_ n: Int, _ scale: Float = 0.3) -> [Float] { (0..<n).map { _ in rng.normal() * scale } }
        // Norm weights as GGUF stores Gemma's: 1 + w already added.
        func norm(_ n: Int) -> [Float] { random(n, 0.2).map { 1 + $0 } }
        b.addF32("token_embd.weight", shape: [vocab, dim], random(vocab * dim, 0.3))
        b.addF32("output_norm.weight", shape: [dim], norm(dim))
        for l in 0..<layers {
            b.addF32("blk.\(l).attn_norm.weight", shape: [dim], norm(dim))
            b.addF32("blk.\(l).attn_q.weight", shape: [qDim, dim], random(qDim * dim))
            b.addF32("blk.\(l).attn_k.weight", shape: [kvDim, dim], random(kvDim * dim))
            b.addF32("blk.\(l).attn_v.weight", shape: [kvDim, dim], random(kvDim * dim))
            b.addF32("blk.\(l).attn_q_norm.weight", shape: [headDim], norm(headDim))
            b.addF32("blk.\(l).attn_k_norm.weight", shape: [headDim], norm(headDim))
            b.addF32("blk.\(l).attn_output.weight", shape: [dim, qDim], random(dim * qDim))
            b.addF32("blk.\(l).post_attention_norm.weight", shape: [dim], norm(dim))
            b.addF32("blk.\(l).ffn_norm.weight", shape: [dim], norm(dim))
            b.addF32("blk.\(l).ffn_gate.weight", shape: [hidden, dim], random(hidden * dim))
            b.addF32("blk.\(l).ffn_up.weight", shape: [hidden, dim], random(hidden * dim))
            b.addF32("blk.\(l).ffn_down.weight", shape: [dim, hidden], random(dim * hidden))
            b.addF32("blk.\(l).post_ffw_norm.weight", shape: [dim], norm(dim))
        }
        return b
    }
}

/// Deterministic random numbers for tests.
public struct TestRandom {
    var state: UInt64
    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    public mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    public mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    public mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

public func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shiftadd-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}
