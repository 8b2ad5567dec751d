import ShiftAddModel

extension BundleQuantization {
    /// The layout ids this version writes and reads: `BundleProjection`'s bit planes and APoT codes.
    public static let bcqPlanesV1 = "bcq-planes-v1"
    public static let apotV1 = "apot-v1"
}

extension BundleWriter {
    /// Stores what a bundle keeps unquantized, read from `source`: the fp16 token embedding (and
    /// output head when untied), fp32 norms, and the q/k/v biases of models that have them.
    public mutating func addDenseTensors(from source: ModelDescription) throws {
        let c = source.config
        add(TensorName.tokenEmbedding, f16: try source.floats(TensorName.tokenEmbedding, shape: [c.vocabSize, c.dim]),
            shape: [c.vocabSize, c.dim])
        if !c.tiedEmbeddings {
            add(TensorName.output, f16: try source.floats(TensorName.output, shape: [c.vocabSize, c.dim]), shape: [c.vocabSize, c.dim])
        }
        add(TensorName.outputNorm, f32: try source.floats(TensorName.outputNorm, shape: [c.dim]), shape: [c.dim])
        for l in 0..<c.layerCount {
            add(TensorName.attentionNorm(l), f32: try source.floats(TensorName.attentionNorm(l), shape: [c.dim]), shape: [c.dim])
            add(TensorName.ffnNorm(l), f32: try source.floats(TensorName.ffnNorm(l), shape: [c.dim]), shape: [c.dim])
            if c.attentionBias {
                for p in [TensorName.Projection.q, .k, .v] {
                    let n = ModelDescription.projectionShape(p, config: c)[0]
                    add(TensorName.bias(p, layer: l), f32: try source.floats(TensorName.bias(p, layer: l), shape: [n]), shape: [n])
                }
            }
        }
    }

    /// Stores projection `name` ("blk.L.attn_q", ...) as `BundleProjection` reads it back: its bit
    /// planes, the row base exponents and the packed APoT codes of its scales.
    public mutating func addProjection(_ name: String, _ linear: QuantizedLinear, scales: EncodedScales) {
        add(name + ".planes", u64: linear.planes, shape: [linear.bits, linear.rows, linear.wordsPerRow])
        add(name + ".scale_base", dtype: .i8, shape: [linear.rows], bytes: scales.rowBase.map { UInt8(bitPattern: $0) })
        let alpha = CodePacking.pack(scales.alphaCodes, width: APoTCode.alphaCodeBits(terms: scales.terms))
        let beta = CodePacking.pack(scales.betaCodes, width: APoTCode.betaCodeBits(terms: scales.terms))
        add(name + ".alpha_codes", u64: alpha, shape: [alpha.count])
        add(name + ".beta_codes", u64: beta, shape: [beta.count])
    }
}
