import COpenBLAS
import CShiftKernels
import Dispatch
import ShiftAddModel

/// Where the converter observes the input of a group of projections during `forwardBlock`.
public enum ProjectionInput: Sendable, CaseIterable {
    /// Normalized hidden state read by q, k and v.
    case attention
    /// Attention output read by o.
    case attentionOutput
    /// Normalized hidden state read by gate and up.
    case mlp
    /// SwiGLU product read by down.
    case mlpHidden

    public var projections: [TensorName.Projection] {
        switch self {
        case .attention: [.q, .k, .v]
        case .attentionOutput: [.o]
        case .mlp: [.gate, .up]
        case .mlpHidden: [.down]
        }
    }
}

extension ReferenceModel {
    /// Appends each sequence's tokens to its cache and returns logits: for every new token when
    /// `allLogits`, else only for each sequence's last token. Rows follow the batch order.
    public func forward(_ batch: [(tokens: [Int], cache: KVCache)], allLogits: Bool) -> [Float] {
        let c = config
        let n = batch.reduce(0) { $0 + $1.tokens.count }
        precondition(n > 0, "empty batch")
        for (tokens, cache) in batch {
            precondition(!tokens.isEmpty, "a batch entry without tokens")
            precondition(cache.count + tokens.count <= cache.capacity, "sequence exceeds its cache")
        }
        var x = embed(batch.flatMap(\.tokens))
        let segments = batch.map { (count: $0.tokens.count, cache: $0.cache) }
        for layer in 0..<c.layerCount {
            runBlock(layer, x: &x, segments: segments, cacheLayer: layer, observe: nil)
        }
        for i in batch.indices { batch[i].cache.advance(by: batch[i].tokens.count) }
        return head(x, batch: batch, allLogits: allLogits)
    }

    /// Token embeddings times the family's embedding scale, [tokens][dim].
    public func embed(_ tokens: [Int]) -> [Float] {
        let dim = config.dim
        var x = [Float](repeating: 0, count: tokens.count * dim)
        x.withUnsafeMutableBufferPointer { dst in
            embedding.withUnsafeBufferPointer { src in
                for (row, t) in tokens.enumerated() {
                    precondition(t >= 0 && t < config.vocabSize, "token id \(t) out of range")
                    (dst.baseAddress! + row * dim).update(from: src.baseAddress! + t * dim, count: dim)
                }
            }
        }
        let scale = config.embeddingScale
        if scale != 1 { for i in x.indices { x[i] *= scale } }
        return x
    }

    /// Runs decoder block `layer` alone over `sequences` whole sequences of `length` tokens each,
    /// whose hidden states `x` ([sequences × length][dim]) are replaced by the block's output.
    /// The converter drives the model block by block this way; keys and values live in scratch
    /// caches for the call.
    public func forwardBlock(_ layer: Int, x: inout [Float], sequences: Int, length: Int,
                             observe: ((Int, ProjectionInput, UnsafeBufferPointer<Float>) -> Void)? = nil) {
        precondition(x.count == sequences * length * config.dim, "hidden states do not match \(sequences) × \(length)")
        let segments = (0..<sequences).map { _ in
            (count: length, cache: KVCache(layers: 1, kvDim: config.kvDim, capacity: length))
        }
        runBlock(layer, x: &x, segments: segments, cacheLayer: 0, observe: observe)
    }

    /// One decoder block over the hidden states `x` ([tokens][dim]) of consecutive segments, each
    /// `count` new tokens of one sequence, writing K and V at the sequence's next positions in
    /// layer `cacheLayer` of its cache (the caches advance after the last block). Each family's
    /// recipe is in Architectures/; `observe` sees the input of every group of projections.
    func runBlock(_ layer: Int, x: inout [Float], segments: [(count: Int, cache: KVCache)], cacheLayer: Int,
                  observe: ((Int, ProjectionInput, UnsafeBufferPointer<Float>) -> Void)?) {
        switch config.family {
        case .llama: runLlamaBlock(layer, x: &x, segments: segments, cacheLayer: cacheLayer, observe: observe)
        case .gemma3: runGemma3Block(layer, x: &x, segments: segments, cacheLayer: cacheLayer, observe: observe)
        }
    }

    /// Self-attention of block `layer` shared by the recipes: rotates q and k ([tokens][qDim],
    /// [tokens][kvDim]) by position, stores k and v in cache layer `cacheLayer`, and returns each
    /// token's attention over its visible positions (the layer's window, if any), [tokens][qDim].
    func selfAttention(_ layer: Int, q: inout [Float], k: inout [Float], v: [Float],
                       segments: [(count: Int, cache: KVCache)], cacheLayer: Int) -> [Float] {
        let c = config
        let n = q.count / c.qDim
        let rotary = layerRotary[layer]
        let window = c.attentionWindow(layer: layer)
        var attention = [Float](repeating: 0, count: n * c.qDim)
        var row = 0
        for (count, cache) in segments {
            let start = cache.count
            for i in 0..<count {
                q.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + (row + i) * c.qDim, heads: c.headCount, position: start + i) }
                k.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + (row + i) * c.kvDim, heads: c.kvHeadCount, position: start + i) }
                k.withUnsafeBufferPointer { kb in
                    v.withUnsafeBufferPointer { vb in
                        cache.store(layer: cacheLayer, position: start + i,
                                    key: kb.baseAddress! + (row + i) * c.kvDim, value: vb.baseAddress! + (row + i) * c.kvDim)
                    }
                }
            }
            row += count
        }
        if segments.count > 1, segments.allSatisfy({ $0.count == 1 }) {
            attendDecoding(layer: cacheLayer, window: window, caches: segments.map(\.cache), q: q, out: &attention)
        } else {
            row = 0
            for (count, cache) in segments {
                attend(layer: cacheLayer, window: window, cache: cache, start: cache.count, count: count, q: q, qRow: row, out: &attention)
                row += count
            }
        }
        return attention
    }

    /// Causal attention of `count` new tokens (rows `qRow...` of `q`) over the first
    /// `start + count` positions of cache layer `layer`, each seeing at most `window` positions
    /// ending at its own, written to the same rows of `out` ([tokens][qDim]).
    private func attend(layer: Int, window: Int?, cache: KVCache, start: Int, count: Int, q: [Float], qRow: Int, out: inout [Float]) {
        let c = config
        if count == 1 {
            q.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { o in
                    attendOne(layer: layer, window: window, cache: cache, q: q.baseAddress! + qRow * c.qDim,
                              out: o.baseAddress! + qRow * c.qDim)
                }
            }
            return
        }
        let total = start + count
        let hd = c.headDim
        let group = c.headCount / c.kvHeadCount
        let scale = c.attentionScale
        var scores = [Float](repeating: 0, count: count * total)
        let base = cache.offset(layer: layer, position: 0)
        q.withUnsafeBufferPointer { q in
            cache.keys.withUnsafeBufferPointer { keys in
                cache.values.withUnsafeBufferPointer { values in
                    scores.withUnsafeMutableBufferPointer { s in
                        out.withUnsafeMutableBufferPointer { o in
                            for h in 0..<c.headCount {
                                let kv = h / group
                                let qh = q.baseAddress! + qRow * c.qDim + h * hd
                                let kh = keys.baseAddress! + base + kv * hd
                                let vh = values.baseAddress! + base + kv * hd
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(total), Int32(hd),
                                            scale, qh, Int32(c.qDim), kh, Int32(c.kvDim), 0, s.baseAddress!, Int32(total))
                                for i in 0..<count {
                                    let visible = start + i + 1
                                    let first = window.map { max(0, visible - $0) } ?? 0
                                    let r = s.baseAddress! + i * total
                                    Ops.softmax(r + first, count: visible - first)
                                    // Positions before the window and future ones take no part in the P·V product.
                                    for j in 0..<first { r[j] = 0 }
                                    for j in visible..<total { r[j] = 0 }
                                }
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(hd), Int32(total),
                                            1, s.baseAddress!, Int32(total), vh, Int32(c.kvDim), 0,
                                            o.baseAddress! + qRow * c.qDim + h * hd, Int32(c.qDim))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Decoding one token over the last `window` of its `cache.count + 1` positions (all when
    /// nil): the cache layer is one contiguous block, so the C attention loop serves directly (BLAS
    /// set-up per head would dominate such small products).
    fileprivate func attendOne(layer: Int, window: Int?, cache: KVCache, q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let c = config
        let first = window.map { max(0, cache.count + 1 - $0) } ?? 0
        let total = cache.count + 1 - first
        var scores = [Float](repeating: 0, count: total)
        var table: Int32 = 0
        let base = cache.offset(layer: layer, position: first)
        let status = cache.keys.withUnsafeBufferPointer { keys in
            cache.values.withUnsafeBufferPointer { values in
                sa_attention_paged(q, out, Int32(c.headCount), Int32(c.kvHeadCount), Int32(c.headDim), keys.baseAddress! + base,
                                   values.baseAddress! + base, &table, Int32(cache.capacity), Int32(total),
                                   c.attentionScale, &scores)
            }
        }
        precondition(status == 0, "attention arguments")
    }

    /// One decoding token per sequence: the sequences' attention calls are independent (each reads
    /// its own cache and writes its own row), so they run on as many threads as BLAS uses, which
    /// idle meanwhile. Batched sampling (the converter's self-calibration) spent half its time
    /// here on one thread.
    private func attendDecoding(layer: Int, window: Int?, caches: [KVCache], q: [Float], out: inout [Float]) {
        let threads = min(caches.count, BLASThreads.count)
        q.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                let work = DecodingAttention(model: self, layer: layer, window: window, caches: caches, q: q.baseAddress!,
                                             out: o.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: threads) { part in
                    for i in stride(from: part, to: work.caches.count, by: threads) { work.run(i) }
                }
            }
        }
    }

    /// x·Wᵀ (+ bias) for one projection: [rows][outputs].
    func project(_ x: [Float], _ layer: Int, _ p: TensorName.Projection, rows: Int) -> [Float] {
        let block = blocks[layer]
        let w = block.weights[p]!
        let outputs = w.count / (x.count / rows)
        var y: [Float]
        if let b = block.biases[p] {
            y = (0..<rows).flatMap { _ in b }
        } else {
            y = [Float](repeating: 0, count: rows * outputs)
        }
        accumulate(x, w, into: &y, rows: rows, inputs: x.count / rows, outputs: outputs)
        return y
    }

    /// y += x·Wᵀ, with x [rows][inputs] and W [outputs][inputs].
    func accumulate(_ x: [Float], _ w: [Float], into y: inout [Float], rows: Int, inputs: Int, outputs: Int) {
        Self.multiply(x, w, into: &y, rows: rows, inputs: inputs, outputs: outputs, beta: 1)
    }

    /// y = x·Wᵀ + beta·y. A single row goes through sgemv: sgemm would repack all of W for it.
    static func multiply(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                         rows: Int, inputs: Int, outputs: Int, beta: Float) {
        if rows == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outputs), Int32(inputs), 1, w, Int32(inputs), x, 1, beta, y, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs),
                        1, x, Int32(inputs), w, Int32(inputs), beta, y, Int32(outputs))
        }
    }

    /// Final norm and output head over every row, or each sequence's last row.
    private func head(_ x: [Float], batch: [(tokens: [Int], cache: KVCache)], allLogits: Bool) -> [Float] {
        outputLogits(HeadRows.select(x, width: config.dim, counts: batch.map(\.tokens.count), all: allLogits).values)
    }

    /// Final norm and output head over final hidden states `x` ([rows][dim]): [rows][vocab] logits.
    public func outputLogits(_ x: [Float]) -> [Float] {
        let c = config
        let count = x.count / c.dim
        let normed = outputNormed(x)
        var logits = [Float](repeating: 0, count: count * c.vocabSize)
        Self.multiply(normed, output ?? embedding, into: &logits, rows: count, inputs: c.dim, outputs: c.vocabSize, beta: 0)
        return logits
    }
}

extension ReferenceModel {
    /// Final hidden states `x` ([rows][dim]) after the output norm: what the head reads.
    public func outputNormed(_ x: [Float]) -> [Float] {
        var normed = [Float](repeating: 0, count: x.count)
        Ops.rmsNorm(x, outputNorm, &normed, rows: x.count / config.dim, width: config.dim, epsilon: config.rmsNormEpsilon)
        return normed
    }
}

/// The shared state of `attendDecoding`'s threads. `@unchecked Sendable`: each sequence i is run
/// by one thread only, which reads its own cache and query row and writes its own output row; the
/// model is only read.
private struct DecodingAttention: @unchecked Sendable {
    let model: ReferenceModel
    let layer: Int
    let window: Int?
    let caches: [KVCache]
    let q: UnsafePointer<Float>
    let out: UnsafeMutablePointer<Float>

    func run(_ i: Int) {
        let qDim = model.config.qDim
        model.attendOne(layer: layer, window: window, cache: caches[i], q: q + i * qDim, out: out + i * qDim)
    }
}
