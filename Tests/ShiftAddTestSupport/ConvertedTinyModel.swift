import Foundation

extension GGUFBuilder {
    /// A tiny random LLaMA the converter and both engines can run: `tinyModel` with a working
    /// byte-level vocabulary (the 256 GPT-2 byte symbols plus four merges, so any text encodes) and
    /// projection weights scaled to variance 1/inputs, so activations keep their size from layer to
    /// layer instead of growing several-fold per projection. Widths default to multiples of 64 so
    /// the Hadamard rotation applies.
    public static func tinyModelForConversion(dim: Int = 128, hidden: Int = 192, layers: Int = 2, heads: Int = 4,
                                              kvHeads: Int = 2, tied: Bool = true, seed: UInt64 = 1) -> GGUFBuilder {
        let merges = ["Ġ t", "h e", "Ġt he", "i n"]
        let tokens = byteSymbols() + ["Ġt", "he", "Ġthe", "in"]
        var b = tinyModel(dim: dim, hidden: hidden, layers: layers, heads: heads, kvHeads: kvHeads, vocab: tokens.count,
                          tied: tied, seed: seed)
        b.metadata.removeAll { $0.0 == "tokenizer.ggml.tokens" || $0.0 == "tokenizer.ggml.merges" }
        b.add("tokenizer.ggml.tokens", .array(kind: 8, tokens.map { .string($0) }))
        b.add("tokenizer.ggml.merges", .array(kind: 8, merges.map { .string($0) }))
        let projections = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
        for i in b.tensors.indices where projections.contains(where: { b.tensors[i].name.hasSuffix(".\($0).weight") }) {
            // tinyModel draws N(0, 0.3²); ne[0] is the number of inputs.
            let factor = 1 / (0.3 * Float(b.tensors[i].ne[0]).squareRoot())
            let scaled = b.tensors[i].data.withUnsafeBytes { $0.bindMemory(to: Float.self).map { $0 * factor } }
            b.tensors[i].data = scaled.withUnsafeBytes { Array($0) }
        }
        return b
    }

    /// GPT-2's printable stand-ins for the 256 byte values, indexed by byte.
    static func byteSymbols() -> [String] {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var extra = 0
        return (0..<256).map { byte in
            if printable.contains(byte) { return String(UnicodeScalar(UInt8(byte))) }
            extra += 1
            return String(UnicodeScalar(UInt32(255 + extra))!)
        }
    }
}
