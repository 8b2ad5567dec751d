import CShiftKernels
import ShiftAddModel

/// The norms a Gemma 3 block has beyond the LLaMA ones (see `Gemma3`).
struct Gemma3Norms {
    /// One headDim-wide weight applied to every query head, and one to every key head.
    var query: [Float]
    var key: [Float]
    var postAttention: [Float]
    var postFFN: [Float]

    init(_ model: some WeightProvider, layer l: Int) throws {
        let c = model.config
        query = try model.floats(Gemma3.Names.queryNorm(l), shape: [c.headDim])
        key = try model.floats(Gemma3.Names.keyNorm(l), shape: [c.headDim])
        postAttention = try model.floats(Gemma3.Names.postAttentionNorm(l), shape: [c.dim])
        postFFN = try model.floats(Gemma3.Names.postFFNNorm(l), shape: [c.dim])
    }
}

extension ReferenceModel {
    /// The Gemma 3 block (`Gemma3`): with q and k RMS-normed per head before the rotary embedding,
    /// x += postNorm(o(attention(rmsNorm(x)))), then x += postNorm(down(gelu(gate(h)) · up(h)))
    /// with h = rmsNorm(x). The window and rotary base of the layer come from `selfAttention`.
    func runGemma3Block(_ layer: Int, x: inout [Float], segments: [(count: Int, cache: KVCache)], cacheLayer: Int,
                        observe: ((Int, ProjectionInput, UnsafeBufferPointer<Float>) -> Void)?) {
        let c = config
        let n = x.count / c.dim
        let norms = blocks[layer].gemma3!
        var xn = [Float](repeating: 0, count: n * c.dim)
        Ops.rmsNorm(x, blocks[layer].attentionNorm, &xn, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        xn.withUnsafeBufferPointer { observe?(layer, .attention, $0) }
        var q = project(xn, layer, .q, rows: n)
        var k = project(xn, layer, .k, rows: n)
        let v = project(xn, layer, .v, rows: n)
        normHeads(&q, norms.query)
        normHeads(&k, norms.key)
        let attention = selfAttention(layer, q: &q, k: &k, v: v, segments: segments, cacheLayer: cacheLayer)
        attention.withUnsafeBufferPointer { observe?(layer, .attentionOutput, $0) }
        addNormed(project(attention, layer, .o, rows: n), norms.postAttention, to: &x)

        Ops.rmsNorm(x, blocks[layer].ffnNorm, &xn, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        xn.withUnsafeBufferPointer { observe?(layer, .mlp, $0) }
        var gate = project(xn, layer, .gate, rows: n)
        let up = project(xn, layer, .up, rows: n)
        Ops.geluGated(&gate, up, count: gate.count)
        gate.withUnsafeBufferPointer { observe?(layer, .mlpHidden, $0) }
        addNormed(project(gate, layer, .down, rows: n), norms.postFFN, to: &x)
    }

    /// RMSNorm of every head of `v` ([tokens][heads × headDim]): heads are contiguous in a row, so
    /// each is one row of headDim.
    func normHeads(_ v: inout [Float], _ weight: [Float]) {
        let c = config
        let input = v
        Ops.rmsNorm(input, weight, &v, rows: v.count / c.headDim, width: c.headDim, epsilon: c.rmsNormEpsilon)
    }

    /// x += rmsNorm(y) · weight, row by row.
    func addNormed(_ y: [Float], _ weight: [Float], to x: inout [Float]) {
        let c = config
        var normed = [Float](repeating: 0, count: y.count)
        Ops.rmsNorm(y, weight, &normed, rows: y.count / c.dim, width: c.dim, epsilon: c.rmsNormEpsilon)
        for i in x.indices { x[i] += normed[i] }
    }
}

extension QuantizedModel {
    /// The Gemma 3 block on the kernels, over the batch in `buffers.x`: the steps of
    /// `ReferenceModel.runGemma3Block`, with the per-head norms of q and k as RMSNorm over rows of
    /// headDim and the post-norms applied in place to the projection before the residual add.
    func runGemma3Block(_ l: Int, _ pass: BlockPass) {
        let c = config
        let b = buffers
        let n = Int32(pass.tokens)
        let block = blocks[l]
        let norms = block.gemma3!
        sa_rmsnorm(b.x, block.attentionNorm, b.normed, n, Int32(c.dim), c.rmsNormEpsilon)
        project(block, [.q, .k, .v], from: b.normed, width: c.dim, into: [b.q, b.k, b.v], pass)
        sa_rmsnorm(b.q, norms.query, b.q, n * Int32(c.headCount), Int32(c.headDim), c.rmsNormEpsilon)
        sa_rmsnorm(b.k, norms.key, b.k, n * Int32(c.kvHeadCount), Int32(c.headDim), c.rmsNormEpsilon)
        attend(l, pass)
        project(block, [.o], from: b.attention, width: c.qDim, into: [b.projected], pass)
        sa_rmsnorm(b.projected, norms.postAttention, b.projected, n, Int32(c.dim), c.rmsNormEpsilon)
        addToResidual(b.projected, pass)

        sa_rmsnorm(b.x, block.ffnNorm, b.normed, n, Int32(c.dim), c.rmsNormEpsilon)
        project(block, [.gate, .up], from: b.normed, width: c.dim, into: [b.gate, b.up], pass)
        let status = sa_gelu_gated(b.gate, b.up, pass.tokens * c.hiddenDim, -1)
        precondition(status == 0, "gelu-gated")
        project(block, [.down], from: b.gate, width: c.hiddenDim, into: [b.projected], pass)
        sa_rmsnorm(b.projected, norms.postFFN, b.projected, n, Int32(c.dim), c.rmsNormEpsilon)
        addToResidual(b.projected, pass)
    }
}
