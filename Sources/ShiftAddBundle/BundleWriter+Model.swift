import ShiftAddModel

extension BundleQuantization {
    /// The layout ids this version writes and reads: `BundleProjection`'s bit planes and APoT codes.
    public static let bcqPlanesV1 = "bcq-planes-v1"
    public static let apotV1 = "apot-v1"
}

extension BundleWriter {
    /// Stores what a bundle keeps beside the projections, read from `source`: the vocabulary
    /// matrices the manifest's `vocabulary` stores as int8 rows (the token embedding, and the
    /// output head when untied, unless the head is planes: `addHeadPlanes` adds those), and every
    /// vector of the family's tensor table in fp32 (norms; biases in the families with them).
    public mutating func addDenseTensors(from source: ModelDescription) throws {
        let c = source.config
        let vocabulary = ([TensorName.tokenEmbedding] + (c.tiedEmbeddings ? [] : [TensorName.output]))
            .filter { manifest.vocabulary.storesRows($0, tied: c.tiedEmbeddings) }
        for name in vocabulary {
            try addVocabularyRows(name, try source.floats(name, shape: [c.vocabSize, c.dim]), rows: c.vocabSize, cols: c.dim)
        }
        // Every vector of the family's tensor table (norms, and biases where the family has them).
        for (name, shape) in c.family.tensorTable(c) where shape.count == 1 {
            add(name, f32: try source.floats(name, shape: shape), shape: shape)
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

extension BundleWriter {
    /// Stores the output head as planes, as the manifest's `vocabulary.head` describes it.
    public mutating func addHeadPlanes(_ linear: QuantizedLinear, scales: EncodedScales) {
        guard let head = manifest.vocabulary.head else { preconditionFailure("the manifest stores the head as int8 rows") }
        precondition([head.bits, head.rows, head.cols] == [linear.bits, linear.rows, linear.cols], "head shape or width")
        addProjection(head.name, linear, scales: scales)
    }

    /// Bytes `addProjection` stores for a projection of this shape (its four tensors, each padded
    /// to the bundle's alignment): what a size budget counts.
    public static func projectionBytes(rows: Int, cols: Int, bits: Int, groupSize: Int, apotTerms: Int) -> Int {
        let groups = (cols + groupSize - 1) / groupSize
        let planes = bits * rows * ((cols + 63) / 64) * 8
        let alpha = CodePacking.wordCount(codes: rows * groups * bits, width: APoTCode.alphaCodeBits(terms: apotTerms)) * 8
        let beta = CodePacking.wordCount(codes: rows * groups, width: APoTCode.betaCodeBits(terms: apotTerms)) * 8
        return [planes, rows, alpha, beta].reduce(0) { $0 + BundleFormat.aligned($1) }
    }

    /// Bytes of the file `serialized` writes.
    public func fileSize() throws -> Int {
        BundleFormat.aligned(BundleFormat.headerSize + (try manifestJSON()).count) + manifest.dataSize
    }
}

extension BundleWriter {
    /// An upper bound of `fileSize()` once projections `names` are added (with `addProjection`
    /// and a `BundleLayer` each), and the head's planes when `vocabulary.head` says so
    /// (`addHeadPlanes`), to what this writer holds: their manifest entries are counted at their
    /// longest, their tensors not at all (`projectionBytes` counts those).
    public func fileSizeBound(addingProjections names: [String]) throws -> Int {
        var m = manifest
        let longest = 999_999_999_999
        for name in names {
            m.quantization.layers.append(BundleLayer(name: name, bits: 9, rows: longest, cols: longest, hasOffset: true,
                                                     effect: -1.2345678901234567e-300, sensitivity: -1.2345678901234567e-300))
        }
        let head = m.vocabulary.head.map { [$0.name] } ?? []
        for name in names + head {
            for suffix in [".planes", ".scale_base", ".alpha_codes", ".beta_codes"] {
                m.tensors.append(BundleTensorEntry(name: name + suffix, dtype: .u64, shape: [9, longest, longest], offset: longest,
                                                   length: longest, sha256: String(repeating: "f", count: 64)))
            }
        }
        m.dataSize = longest
        var bound = self
        bound.manifest = m
        return BundleFormat.aligned(BundleFormat.headerSize + (try bound.manifestJSON()).count) + manifest.dataSize
    }
}
