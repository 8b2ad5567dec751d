import COpenBLAS
import Foundation
import ShiftAddModel

/// The gradient of a loss on the logits with respect to every projection's weights, by a
/// training forward pass that keeps each block's activations (`BlockTape`) and the backward pass
/// through the head's norm and the blocks (`backwardBlock`). The converter distils scales with it.
extension ReferenceModel {
    /// Each projection's ∂loss/∂W ([outputs][inputs], like the weights), by layer.
    public typealias WeightGradients = [[TensorName.Projection: [Float]]]

    /// Runs `sequences` (all the same length, each from position 0), hands `lossGradient` the
    /// logits ([tokens][vocab], sequence after sequence) to replace by ∂loss/∂logits while it
    /// returns the loss, and returns that loss with the weights' gradients. The head and the norms
    /// take part in the backward pass but get no gradient.
    public func weightGradients(sequences: [[Int]], lossGradient: (inout [Float]) -> Double) -> (loss: Double, gradients: WeightGradients) {
        let c = config
        let length = sequences[0].count
        precondition(sequences.allSatisfy { $0.count == length } && length > 0, "sequences of one non-zero length")
        let n = sequences.count * length
        var x = embed(sequences.flatMap { $0 })
        var tapes: [BlockTape] = []
        for layer in 0..<c.layerCount {
            tapes.append(tapedBlock(layer, x: &x, sequences: sequences.count, length: length))
        }
        var logits = outputLogits(x)
        let loss = lossGradient(&logits)
        let head = output ?? embedding
        var dNormed = [Float](repeating: 0, count: n * c.dim)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(c.dim), Int32(c.vocabSize), 1,
                    logits, Int32(c.vocabSize), head, Int32(c.dim), 0, &dNormed, Int32(c.dim))
        logits = []
        var dx = [Float](repeating: 0, count: n * c.dim)
        Ops.rmsNormBackward(x, outputNorm, dNormed, &dx, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        var gradients = WeightGradients(repeating: [:], count: c.layerCount)
        for layer in (0..<c.layerCount).reversed() {
            gradients[layer] = backwardBlock(layer, tape: tapes[layer], dx: &dx, length: length)
            tapes[layer] = BlockTape()
        }
        return (loss, gradients)
    }

    /// What one block's backward pass reads of its forward pass.
    struct BlockTape {
        var input: [Float] = []
        var attentionNormed: [Float] = []
        /// After the rotary embedding.
        var q: [Float] = []
        var k: [Float] = []
        var v: [Float] = []
        /// Gemma 3: q and k before their per-head norms.
        var qProjected: [Float] = []
        var kProjected: [Float] = []
        /// Causal softmax of each sequence and head, [sequence][head][length][length].
        var probabilities: [Float] = []
        var attention: [Float] = []
        /// Gemma 3: the o and down projections' outputs, before their post-norms.
        var attentionProjected: [Float] = []
        var down: [Float] = []
        var middle: [Float] = []
        var ffnNormed: [Float] = []
        var gate: [Float] = []
        var up: [Float] = []
        var hidden: [Float] = []
    }

    /// Block `layer` over whole sequences from position 0, as the family's block recipe computes
    /// it (Architectures/), keeping what its backward pass needs.
    func tapedBlock(_ layer: Int, x: inout [Float], sequences: Int, length: Int) -> BlockTape {
        let c = config
        let n = sequences * length
        let gemma = blocks[layer].gemma3
        let rotary = layerRotary[layer]
        var t = BlockTape()
        t.input = x
        t.attentionNormed = [Float](repeating: 0, count: n * c.dim)
        Ops.rmsNorm(x, blocks[layer].attentionNorm, &t.attentionNormed, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        t.q = project(t.attentionNormed, layer, .q, rows: n)
        t.k = project(t.attentionNormed, layer, .k, rows: n)
        t.v = project(t.attentionNormed, layer, .v, rows: n)
        if let gemma {
            t.qProjected = t.q
            t.kProjected = t.k
            normHeads(&t.q, gemma.query)
            normHeads(&t.k, gemma.key)
        }
        for row in 0..<n {
            t.q.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + row * c.qDim, heads: c.headCount, position: row % length) }
            t.k.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + row * c.kvDim, heads: c.kvHeadCount, position: row % length) }
        }
        t.probabilities = [Float](repeating: 0, count: sequences * c.headCount * length * length)
        t.attention = [Float](repeating: 0, count: n * c.qDim)
        let hd = c.headDim, group = c.headCount / c.kvHeadCount
        let scale = c.attentionScale
        let window = c.attentionWindow(layer: layer) ?? length
        for s in 0..<sequences {
            for h in 0..<c.headCount {
                let kv = h / group
                let qh = (s * length) * c.qDim + h * hd, kvh = (s * length) * c.kvDim + kv * hd
                let ph = (s * c.headCount + h) * length * length
                t.q.withUnsafeBufferPointer { q in
                    t.k.withUnsafeBufferPointer { k in
                        t.probabilities.withUnsafeMutableBufferPointer { p in
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(length), Int32(length), Int32(hd), scale,
                                        q.baseAddress! + qh, Int32(c.qDim), k.baseAddress! + kvh, Int32(c.kvDim),
                                        0, p.baseAddress! + ph, Int32(length))
                            for i in 0..<length {
                                // Position i sees max(0, i - window + 1)...i.
                                let first = max(0, i + 1 - window)
                                let r = p.baseAddress! + ph + i * length
                                Ops.softmax(r + first, count: i + 1 - first)
                                for j in 0..<first { r[j] = 0 }
                                for j in (i + 1)..<length { r[j] = 0 }
                            }
                        }
                    }
                }
                t.probabilities.withUnsafeBufferPointer { p in
                    t.v.withUnsafeBufferPointer { v in
                        t.attention.withUnsafeMutableBufferPointer { o in
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(length), Int32(hd), Int32(length), 1,
                                        p.baseAddress! + ph, Int32(length), v.baseAddress! + kvh, Int32(c.kvDim),
                                        0, o.baseAddress! + qh, Int32(c.qDim))
                        }
                    }
                }
            }
        }
        if let gemma {
            t.attentionProjected = project(t.attention, layer, .o, rows: n)
            addNormed(t.attentionProjected, gemma.postAttention, to: &x)
        } else {
            accumulate(t.attention, blocks[layer].weights[.o]!, into: &x, rows: n, inputs: c.qDim, outputs: c.dim)
        }
        t.middle = x
        t.ffnNormed = [Float](repeating: 0, count: n * c.dim)
        Ops.rmsNorm(x, blocks[layer].ffnNorm, &t.ffnNormed, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
        t.gate = project(t.ffnNormed, layer, .gate, rows: n)
        t.up = project(t.ffnNormed, layer, .up, rows: n)
        t.hidden = t.gate
        if let gemma {
            Ops.geluGated(&t.hidden, t.up, count: t.hidden.count)
            t.down = project(t.hidden, layer, .down, rows: n)
            addNormed(t.down, gemma.postFFN, to: &x)
        } else {
            Ops.swiglu(&t.hidden, t.up, count: t.hidden.count)
            accumulate(t.hidden, blocks[layer].weights[.down]!, into: &x, rows: n, inputs: c.hiddenDim, outputs: c.dim)
        }
        return t
    }

    /// Replaces `dx` (∂loss/∂ block output) by ∂loss/∂ block input and returns ∂loss/∂W of the
    /// block's projections.
    func backwardBlock(_ layer: Int, tape t: BlockTape, dx: inout [Float], length: Int) -> [TensorName.Projection: [Float]] {
        let c = config
        let n = dx.count / c.dim
        let w = blocks[layer].weights
        let gemma = blocks[layer].gemma3
        let rotary = layerRotary[layer]
        var g: [TensorName.Projection: [Float]] = [:]
        /// ∂loss/∂y for x += postNorm(y) (Gemma 3), or for x += y.
        func throughPostNorm(_ y: [Float], _ weight: [Float]?) -> [Float] {
            guard let weight else { return dx }
            var dy = [Float](repeating: 0, count: y.count)
            Ops.rmsNormBackward(y, weight, dx, &dy, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon)
            return dy
        }

        // x_out = middle + [postNorm](hidden·Wdᵀ)
        let dDown = throughPostNorm(t.down, gemma?.postFFN)
        g[.down] = Self.weightGradient(dDown, t.hidden, rows: n, outputs: c.dim, inputs: c.hiddenDim)
        var dHidden = Self.inputGradient(dDown, w[.down]!, rows: n, outputs: c.dim, inputs: c.hiddenDim)
        // hidden = act(gate)·up, act = silu or (Gemma 3) GELU's tanh form
        var dGate = dHidden
        for i in 0..<dHidden.count {
            let (value, slope) = gemma == nil ? Self.silu(t.gate[i]) : Self.gelu(t.gate[i])
            dGate[i] = dHidden[i] * t.up[i] * slope
            dHidden[i] *= value
        }
        let dUp = dHidden
        g[.gate] = Self.weightGradient(dGate, t.ffnNormed, rows: n, outputs: c.hiddenDim, inputs: c.dim)
        g[.up] = Self.weightGradient(dUp, t.ffnNormed, rows: n, outputs: c.hiddenDim, inputs: c.dim)
        var dNormed = Self.inputGradient(dGate, w[.gate]!, rows: n, outputs: c.hiddenDim, inputs: c.dim)
        Self.multiplyAdd(dUp, w[.up]!, into: &dNormed, rows: n, outputs: c.hiddenDim, inputs: c.dim)
        Ops.rmsNormBackward(t.middle, blocks[layer].ffnNorm, dNormed, &dx, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon, accumulate: true)

        // middle = input + [postNorm](attention·Woᵀ)
        let dProjected = throughPostNorm(t.attentionProjected, gemma?.postAttention)
        g[.o] = Self.weightGradient(dProjected, t.attention, rows: n, outputs: c.dim, inputs: c.qDim)
        let dAttention = Self.inputGradient(dProjected, w[.o]!, rows: n, outputs: c.dim, inputs: c.qDim)
        var dq = [Float](repeating: 0, count: n * c.qDim)
        var dk = [Float](repeating: 0, count: n * c.kvDim)
        var dv = [Float](repeating: 0, count: n * c.kvDim)
        attentionBackward(tape: t, dOut: dAttention, dq: &dq, dk: &dk, dv: &dv, length: length)
        for row in 0..<n {
            dq.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + row * c.qDim, heads: c.headCount, position: row % length, inverse: true) }
            dk.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + row * c.kvDim, heads: c.kvHeadCount, position: row % length, inverse: true) }
        }
        if let gemma {
            let (dqNormed, dkNormed) = (dq, dk)
            Ops.rmsNormBackward(t.qProjected, gemma.query, dqNormed, &dq, rows: n * c.headCount, width: c.headDim, epsilon: c.rmsNormEpsilon)
            Ops.rmsNormBackward(t.kProjected, gemma.key, dkNormed, &dk, rows: n * c.kvHeadCount, width: c.headDim, epsilon: c.rmsNormEpsilon)
        }
        g[.q] = Self.weightGradient(dq, t.attentionNormed, rows: n, outputs: c.qDim, inputs: c.dim)
        g[.k] = Self.weightGradient(dk, t.attentionNormed, rows: n, outputs: c.kvDim, inputs: c.dim)
        g[.v] = Self.weightGradient(dv, t.attentionNormed, rows: n, outputs: c.kvDim, inputs: c.dim)
        dNormed = Self.inputGradient(dq, w[.q]!, rows: n, outputs: c.qDim, inputs: c.dim)
        Self.multiplyAdd(dk, w[.k]!, into: &dNormed, rows: n, outputs: c.kvDim, inputs: c.dim)
        Self.multiplyAdd(dv, w[.v]!, into: &dNormed, rows: n, outputs: c.kvDim, inputs: c.dim)
        Ops.rmsNormBackward(t.input, blocks[layer].attentionNorm, dNormed, &dx, rows: n, width: c.dim, epsilon: c.rmsNormEpsilon, accumulate: true)
        return g
    }

    /// Per sequence and head, with O = P·V and P the causal (and windowed) softmax of S = s·Q·Kᵀ:
    /// dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = s·dS·K, dK = s·dSᵀ·Q;
    /// heads sharing a key/value head add into its dK and dV. Q and K are the rotated ones;
    /// positions outside a window have P = 0, so they get no gradient.
    private func attentionBackward(tape t: BlockTape, dOut: [Float], dq: inout [Float], dk: inout [Float], dv: inout [Float], length: Int) {
        let c = config
        let sequences = dOut.count / (length * c.qDim)
        let hd = c.headDim, group = c.headCount / c.kvHeadCount
        let scale = c.attentionScale
        var dS = [Float](repeating: 0, count: length * length)
        for s in 0..<sequences {
            for h in 0..<c.headCount {
                let kv = h / group
                let qh = (s * length) * c.qDim + h * hd, kvh = (s * length) * c.kvDim + kv * hd
                let ph = (s * c.headCount + h) * length * length
                t.probabilities.withUnsafeBufferPointer { p in
                    dOut.withUnsafeBufferPointer { dO in
                        t.v.withUnsafeBufferPointer { v in
                            dS.withUnsafeMutableBufferPointer { ds in
                                dv.withUnsafeMutableBufferPointer { dv in
                                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(length), Int32(hd), Int32(length), 1,
                                                p.baseAddress! + ph, Int32(length), dO.baseAddress! + qh, Int32(c.qDim),
                                                1, dv.baseAddress! + kvh, Int32(c.kvDim))
                                }
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(length), Int32(length), Int32(hd), 1,
                                            dO.baseAddress! + qh, Int32(c.qDim), v.baseAddress! + kvh, Int32(c.kvDim),
                                            0, ds.baseAddress!, Int32(length))
                                for i in 0..<length {
                                    let pr = p.baseAddress! + ph + i * length, dr = ds.baseAddress! + i * length
                                    var dot: Float = 0
                                    for j in 0...i { dot += pr[j] * dr[j] }
                                    for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) }
                                    for j in (i + 1)..<length { dr[j] = 0 }
                                }
                            }
                        }
                    }
                }
                dS.withUnsafeBufferPointer { ds in
                    t.k.withUnsafeBufferPointer { k in
                        dq.withUnsafeMutableBufferPointer { dq in
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(length), Int32(hd), Int32(length), scale,
                                        ds.baseAddress!, Int32(length), k.baseAddress! + kvh, Int32(c.kvDim),
                                        0, dq.baseAddress! + qh, Int32(c.qDim))
                        }
                    }
                    t.q.withUnsafeBufferPointer { q in
                        dk.withUnsafeMutableBufferPointer { dk in
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(length), Int32(hd), Int32(length), scale,
                                        ds.baseAddress!, Int32(length), q.baseAddress! + qh, Int32(c.qDim),
                                        1, dk.baseAddress! + kvh, Int32(c.kvDim))
                        }
                    }
                }
            }
        }
    }

    /// silu(a) and its derivative.
    static func silu(_ a: Float) -> (value: Float, slope: Float) {
        let sigma = 1 / (1 + Foundation.exp(-a))
        return (a * sigma, sigma * (1 + a * (1 - sigma)))
    }

    /// GELU's tanh form (`Ops.geluTanh`) and its derivative.
    static func gelu(_ a: Float) -> (value: Float, slope: Float) {
        let th = Ops.geluTanh(a)
        return (0.5 * a * (1 + th), 0.5 * (1 + th) + 0.5 * a * (1 - th * th) * Ops.geluScale * (1 + 3 * Ops.geluCubic * a * a))
    }

    /// ∂loss/∂W = dYᵀ·X for Y = X·Wᵀ: [outputs][inputs].
    static func weightGradient(_ dY: [Float], _ x: [Float], rows: Int, outputs: Int, inputs: Int) -> [Float] {
        var g = [Float](repeating: 0, count: outputs * inputs)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(rows), 1,
                    dY, Int32(outputs), x, Int32(inputs), 0, &g, Int32(inputs))
        return g
    }

    /// ∂loss/∂X = dY·W for Y = X·Wᵀ: [rows][inputs].
    static func inputGradient(_ dY: [Float], _ w: [Float], rows: Int, outputs: Int, inputs: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: rows * inputs)
        multiplyAdd(dY, w, into: &dx, rows: rows, outputs: outputs, inputs: inputs)
        return dx
    }

    /// dX += dY·W.
    static func multiplyAdd(_ dY: [Float], _ w: [Float], into dx: inout [Float], rows: Int, outputs: Int, inputs: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inputs), Int32(outputs), 1,
                    dY, Int32(outputs), w, Int32(inputs), 1, &dx, Int32(inputs))
    }
}
