import COpenBLAS
import ShiftAddModel

/// Where the converter may observe the input of a group of projections during a forward pass.
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
    /// `observe`, when given, sees every projection input as [rows][width] for the whole batch.
    public func forward(_ batch: [(tokens: [Int], cache: KVCache)], allLogits: Bool,
                        observe: ((Int, ProjectionInput, UnsafeBufferPointer<Float>) -> Void)? = nil) -> [Float] {
        let c = config
        let n = batch.reduce(0) { $0 + $1.tokens.count }
        precondition(n > 0, "empty batch")
        var x = [Float](repeating: 0, count: n * c.dim)
        var row = 0
        for (tokens, cache) in batch {
            precondition(cache.count + tokens.count <= cache.capacity, "sequence exceeds its cache")
            for t in tokens {
                precondition(t >= 0 && t < c.vocabSize, "token id \(t) out of range")
                x.withUnsafeMutableBufferPointer { dst in
                    embedding.withUnsafeBufferPointer { src in
                        (dst.baseAddress! + row * c.dim).update(from: src.baseAddress! + t * c.dim, count: c.dim)
                    }
                }
                row += 1
            }
        }
        for layer in 0..<c.layerCount {
            runBlock(layer, x: &x, batch: batch, observe: observe)
        }
        for i in batch.indices { batch[i].cache.advance(by: batch[i].tokens.count) }
        return head(x, batch: batch, allLogits: allLogits)
    }

    /// One decoder block over the batch's hidden states `x` ([tokens][dim]), writing K and V at each
    /// sequence's next positions (the caches advance after the last block).
    func runBlock(_ layer: Int, x: inout [Float], batch: [(tokens: [Int], cache: KVCache)],
                  observe: ((Int, ProjectionInput, UnsafeBufferPointer<Float>) -> Void)?) {
        let c = config
        let n = x.count / c.dim
        let block = blocks[layer]
        var xn = [Float](repeating: 0, count: n * c.dim)
        Ops.rmsNorm(x, block.attentionNorm, &xn, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        xn.withUnsafeBufferPointer { observe?(layer, .attention, $0) }
        var q = project(xn, block, .q, rows: n)
        var k = project(xn, block, .k, rows: n)
        let v = project(xn, block, .v, rows: n)

        var attention = [Float](repeating: 0, count: n * c.qDim)
        var row = 0
        for (tokens, cache) in batch {
            let start = cache.count
            for i in 0..<tokens.count {
                q.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + (row + i) * c.qDim, heads: c.headCount, position: start + i) }
                k.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + (row + i) * c.kvDim, heads: c.kvHeadCount, position: start + i) }
                k.withUnsafeBufferPointer { kb in
                    v.withUnsafeBufferPointer { vb in
                        cache.store(layer: layer, position: start + i,
                                    key: kb.baseAddress! + (row + i) * c.kvDim, value: vb.baseAddress! + (row + i) * c.kvDim)
                    }
                }
            }
            attend(layer: layer, cache: cache, start: start, count: tokens.count, q: q, qRow: row, out: &attention)
            row += tokens.count
        }
        attention.withUnsafeBufferPointer { observe?(layer, .attentionOutput, $0) }
        accumulate(attention, block.weights[.o]!, into: &x, rows: n, inputs: c.qDim, outputs: c.dim)

        Ops.rmsNorm(x, block.ffnNorm, &xn, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        xn.withUnsafeBufferPointer { observe?(layer, .mlp, $0) }
        var gate = project(xn, block, .gate, rows: n)
        let up = project(xn, block, .up, rows: n)
        Ops.swiglu(&gate, up, count: gate.count)
        gate.withUnsafeBufferPointer { observe?(layer, .mlpHidden, $0) }
        accumulate(gate, block.weights[.down]!, into: &x, rows: n, inputs: c.hiddenDim, outputs: c.dim)
    }

    /// Causal attention of `count` new tokens (rows `qRow...` of `q`) over the cache's first
    /// `start + count` positions, written to the same rows of `out` ([tokens][qDim]).
    private func attend(layer: Int, cache: KVCache, start: Int, count: Int, q: [Float], qRow: Int, out: inout [Float]) {
        let c = config
        let total = start + count
        let hd = c.headDim
        let group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
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
                                    let r = s.baseAddress! + i * total
                                    Ops.softmax(r, count: visible)
                                    // Future positions take no part in the P·V product.
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

    /// x·Wᵀ (+ bias) for one projection: [rows][outputs].
    private func project(_ x: [Float], _ block: Block, _ p: TensorName.Projection, rows: Int) -> [Float] {
        let w = block.weights[p]!
        let outputs = w.count / (x.count / rows)
        var y: [Float]
        if let b = block.biases[p] {
            y = (0..<rows).flatMap { _ in b }
        } else {
            y = [Float](repeating: 0, count: rows * outputs)
        }
        let inputs = x.count / rows
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs),
                    1, x, Int32(inputs), w, Int32(inputs), 1, &y, Int32(outputs))
        return y
    }

    /// y += x·Wᵀ.
    private func accumulate(_ x: [Float], _ w: [Float], into y: inout [Float], rows: Int, inputs: Int, outputs: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs),
                    1, x, Int32(inputs), w, Int32(inputs), 1, &y, Int32(outputs))
    }

    /// Final norm and output head over every row, or each sequence's last row.
    private func head(_ x: [Float], batch: [(tokens: [Int], cache: KVCache)], allLogits: Bool) -> [Float] {
        let c = config
        var rows: [Int] = []
        var r = 0
        for (tokens, _) in batch {
            if allLogits { rows.append(contentsOf: r..<(r + tokens.count)) } else { rows.append(r + tokens.count - 1) }
            r += tokens.count
        }
        var selected = [Float](repeating: 0, count: rows.count * c.dim)
        for (i, src) in rows.enumerated() {
            for d in 0..<c.dim { selected[i * c.dim + d] = x[src * c.dim + d] }
        }
        var normed = [Float](repeating: 0, count: selected.count)
        Ops.rmsNorm(selected, outputNorm, &normed, rows: rows.count, width: c.dim, epsilon: c.rmsNormEpsilon)
        var logits = [Float](repeating: 0, count: rows.count * c.vocabSize)
        let w = output ?? embedding
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(c.vocabSize), Int32(c.dim),
                    1, normed, Int32(c.dim), w, Int32(c.dim), 0, &logits, Int32(c.vocabSize))
        return logits
    }
}
