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
