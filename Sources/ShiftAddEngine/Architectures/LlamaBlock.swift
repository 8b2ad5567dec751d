import CShiftKernels
import ShiftAddModel

extension ReferenceModel {
    /// The LLaMA-family block (`Llama`): x += o(attention(rmsNorm(x))), then
    /// x += down(silu(gate(h)) · up(h)) with h = rmsNorm(x).
    func runLlamaBlock(_ layer: Int, x: inout [Float], segments: [(count: Int, cache: KVCache)], cacheLayer: Int,
                       observe: ((Int, ProjectionInput, UnsafeBufferPointer<Float>) -> Void)?) {
        let c = config
        let n = x.count / c.dim
        // Weights are read from `blocks` at each use, not copied up front: `observe` may replace a
        // projection's weights (the converter's sequential quantization) before they are used.
        var xn = [Float](repeating: 0, count: n * c.dim)
        Ops.rmsNorm(x, blocks[layer].attentionNorm, &xn, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        xn.withUnsafeBufferPointer { observe?(layer, .attention, $0) }
        var q = project(xn, layer, .q, rows: n)
        var k = project(xn, layer, .k, rows: n)
        let v = project(xn, layer, .v, rows: n)
        let attention = selfAttention(layer, q: &q, k: &k, v: v, segments: segments, cacheLayer: cacheLayer)
        attention.withUnsafeBufferPointer { observe?(layer, .attentionOutput, $0) }
        accumulate(attention, blocks[layer].weights[.o]!, into: &x, rows: n, inputs: c.qDim, outputs: c.dim)

        Ops.rmsNorm(x, blocks[layer].ffnNorm, &xn, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        xn.withUnsafeBufferPointer { observe?(layer, .mlp, $0) }
        var gate = project(xn, layer, .gate, rows: n)
        let up = project(xn, layer, .up, rows: n)
        Ops.swiglu(&gate, up, count: gate.count)
        gate.withUnsafeBufferPointer { observe?(layer, .mlpHidden, $0) }
        accumulate(gate, blocks[layer].weights[.down]!, into: &x, rows: n, inputs: c.hiddenDim, outputs: c.dim)
    }
}

extension QuantizedModel {
    /// The LLaMA-family block on the kernels, over the batch in `buffers.x`, as llama2.c's forward:
    /// x += o(attention(rmsNorm(x))), then x += down(silu(gate(h)) · up(h)) with h = rmsNorm(x).
    func runLlamaBlock(_ l: Int, _ pass: BlockPass) {
        let c = config
        let b = buffers
        let n = Int32(pass.tokens)
        let block = blocks[l]
        sa_rmsnorm(b.x, block.attentionNorm, b.normed, n, Int32(c.dim), c.rmsNormEpsilon)
        project(block, [.q, .k, .v], from: b.normed, width: c.dim, into: [b.q, b.k, b.v], pass)
        attend(l, pass)
        project(block, [.o], from: b.attention, width: c.qDim, into: [b.projected], pass)
        addToResidual(b.projected, pass)

        sa_rmsnorm(b.x, block.ffnNorm, b.normed, n, Int32(c.dim), c.rmsNormEpsilon)
        project(block, [.gate, .up], from: b.normed, width: c.dim, into: [b.gate, b.up], pass)
        let status = sa_swiglu(b.gate, b.up, pass.tokens * c.hiddenDim, -1)
        precondition(status == 0, "swiglu")
        project(block, [.down], from: b.gate, width: c.hiddenDim, into: [b.projected], pass)
        addToResidual(b.projected, pass)
    }
}
