import COpenBLAS
import Foundation
import ShiftAddBundle
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTokenizer

/// Turns a checkpoint into a bundle: calibrate, then reparameterize every projection block by
/// block, each block seeing the inputs produced by the already converted blocks before it.
///
/// Within a block the projections are converted in the order the forward pass reads them (q/k/v,
/// o, gate/up, down); each group's Hessian comes from the block's actual inputs at that point, so
/// o is fitted to the outputs of the converted q/k/v, and so on.
public final class Converter {
    /// What the converter reports while it runs.
    public struct Progress: Sendable {
        public let stage: String
        public let done: Int
        public let total: Int
        public let detail: String
    }

    /// Per-projection outcome, also recorded in the bundle.
    public struct LayerReport: Sendable {
        public let layer: Int
        public let projection: TensorName.Projection
        public let bits: Int
        /// ‖(W − Ŵ)X‖² / ‖WX‖² over the calibration inputs the projection saw (damped Hessian).
        public let relativeOutputError: Double
        /// The measured effect the width was allocated by (`measureEffects`), when allocating.
        public let effect: Double?
        /// ShiftAddLLM's sensitivity score, computed beside the measured effect.
        public let sensitivity: Double?
    }

    let source: ModelDescription
    let options: ConversionOptions
    let tokenizer: Tokenizer
    let model: ReferenceModel
    public private(set) var reports: [LayerReport] = []
    /// The distillation's losses, when it ran.
    public private(set) var distillation: ScaleDistiller.Report?

    public init(source: ModelDescription, options: ConversionOptions) throws {
        guard let spec = source.tokenizer else { throw ConversionError.unsupported("\(source.path) has no tokenizer") }
        let c = source.config
        if options.rotate {
            for width in [c.dim, c.qDim, c.hiddenDim] where width % options.rotationBlock != 0 {
                throw ConversionError.unsupported("width \(width) is not a multiple of the rotation block \(options.rotationBlock); use --rotate none")
            }
        }
        self.source = source
        self.options = options
        tokenizer = try Tokenizer(spec: spec)
        model = try ReferenceModel(source)
    }

    /// Runs the conversion and returns the bundle, ready to write. A size target below the
    /// smallest bundle of this model fails before any calibration.
    public func convert(progress: (Progress) -> Void) throws -> BundleWriter {
        let c = model.config
        var writer = try BundleAssembler(source: source, options: options).makeWriter()
        let budget = try projectionBudget(writer: writer)
        let calibration = try calibrationSet(progress: progress)
        let count = calibration.sequences.count, length = calibration.sequences[0].count
        let allTokens = calibration.sequences.flatMap { $0 }

        var bitsByLayer = [[TensorName.Projection: Int]](repeating: [:], count: c.layerCount)
        var measured = [[TensorName.Projection: (effect: Double, sensitivity: Double)]](repeating: [:], count: c.layerCount)
        if case let .uniform(b) = options.bits {
            for l in 0..<c.layerCount { for p in TensorName.Projection.allCases { bitsByLayer[l][p] = b } }
        } else {
            if let path = options.effectsFile, let saved = try loadEffects(path: path) {
                progress(Progress(stage: "measure", done: c.layerCount, total: c.layerCount, detail: "effects read from \(path)"))
                measured = saved
            } else {
                measured = try measureEffects(calibration: calibration, progress: progress)
                if let path = options.effectsFile { try saveEffects(measured, path: path) }
            }
            bitsByLayer = try allocateBits(effects: measured.map { $0.mapValues(\.effect) }, budget: budget!)
        }

        var layers: [QuantizedProjection] = []
        var x = model.embed(allTokens)
        let start = Date()
        for l in 0..<c.layerCount {
            try forEachProjectionInput(ofBlock: l, x: &x, sequences: count, length: length) { layer, site, input in
                let factor = try hessianFactor(site: site, input: input)
                for p in site.projections {
                    let q = try quantize(layer: layer, projection: p, bits: bitsByLayer[layer][p]!, factor: factor)
                    layers.append(q.projection)
                    reports.append(LayerReport(layer: layer, projection: p, bits: q.projection.linear.bits,
                                               relativeOutputError: q.relativeError, effect: measured[layer][p]?.effect,
                                               sensitivity: measured[layer][p]?.sensitivity))
                }
            }
            let recent = reports.suffix(TensorName.Projection.allCases.count)
            let mean = recent.map(\.relativeOutputError).reduce(0, +) / Double(recent.count)
            let elapsed = Date().timeIntervalSince(start)
            progress(Progress(stage: "convert", done: l + 1, total: c.layerCount,
                              detail: String(format: "block output error %.4f, %.0fs", mean, elapsed)))
        }
        if options.distillSteps > 0 {
            layers = try distil(layers, calibration: calibration, progress: progress)
            if options.headPlanes {
                x = model.embed(allTokens)
                for l in 0..<c.layerCount { model.forwardBlock(l, x: &x, sequences: count, length: length) }
            }
        }
        BundleAssembler.addProjections(layers, reports: reports, to: &writer)
        if options.headPlanes {
            progress(Progress(stage: "head", done: 0, total: 1, detail: "\(options.headBits) bit planes"))
            let head = try quantizeHead(finalStates: x)
            writer.addHeadPlanes(head.linear, scales: head.scales)
            progress(Progress(stage: "head", done: 1, total: 1,
                              detail: String(format: "output error %.4f, %.0fs", head.relativeError, Date().timeIntervalSince(start))))
        }
        if case let .maxBytes(limit) = options.bits {
            let size = try writer.fileSize()
            guard size <= limit else { throw ConversionError.unsupported("internal: the bundle came to \(size) bytes, over --max-bytes \(limit)") }
        }
        return writer
    }

    /// The projections with their scales distilled end to end against the checkpoint's own model.
    private func distil(_ layers: [QuantizedProjection], calibration: CalibrationSet,
                        progress: (Progress) -> Void) throws -> [QuantizedProjection] {
        let teacher = try ReferenceModel(source)
        let settings = ScaleDistiller.Settings(steps: options.distillSteps, sequencesPerStep: options.distillSequencesPerStep,
                                               learningRate: options.distillRate)
        let distiller = ScaleDistiller(settings: settings, apotTerms: options.apotTerms) { try self.rotation(width: $0) }
        let start = Date()
        let (distilled, report) = try distiller.distil(layers, student: model, teacher: teacher, sequences: calibration.sequences) { step, loss in
            progress(Progress(stage: "distil", done: step, total: options.distillSteps,
                              detail: String(format: "KL %.4f, %.0fs", loss, Date().timeIntervalSince(start))))
        }
        distillation = report
        return distilled
    }

    private func calibrationSet(progress: (Progress) -> Void) throws -> CalibrationSet {
        switch options.calibration {
        case let .text(path):
            return try CalibrationSet.fromText(path: path, tokenizer: tokenizer, count: options.samples,
                                               length: options.sequenceLength, seed: options.seed)
        case .selfGenerated:
            let opening = source.chatTemplate.flatMap { CalibrationSet.chatOpening(template: $0, tokenizer: tokenizer) }
            return CalibrationSet.sampled(from: model, tokenizer: tokenizer, count: options.samples,
                                          length: options.sequenceLength, seed: options.seed,
                                          sampling: options.selfSampling, chatOpening: opening) { done, total in
                progress(Progress(stage: "calibrate", done: done, total: total, detail: "sampling from the model"))
            }
        }
    }

    /// The rotation of an input width, or nil when rotation is off. Each width has its own signs.
    func rotation(width: Int) throws -> HadamardRotation? {
        guard options.rotate else { return nil }
        return try HadamardRotation(length: width, blockSize: options.rotationBlock,
                                    seed: options.rotation.seed(forWidth: width))
    }

    /// The output head quantized like a projection, against the Hessian of the calibration set's
    /// final hidden states after the output norm (the inputs the head reads).
    private func quantizeHead(finalStates x: [Float]) throws -> (linear: QuantizedLinear, scales: EncodedScales, relativeError: Double) {
        let c = model.config
        let normed = model.outputNormed(x)
        let factor = try normed.withUnsafeBufferPointer { try hessianFactor(width: c.dim, input: $0) }
        let weights = try source.floats(c.tiedEmbeddings ? TensorName.tokenEmbedding : TensorName.output, shape: [c.vocabSize, c.dim])
        let fitted = try fit(weights: weights, rows: c.vocabSize, cols: c.dim, bits: options.headBits, factor: factor,
                             refinementRounds: options.refinementRounds)
        return (fitted.linear, try EncodedScales(encoding: fitted.linear, terms: options.apotTerms), fitted.relativeError)
    }

    /// H = XXᵀ/n of a site's inputs, in the rotated basis when rotation is on, accumulated in
    /// chunks so the Float64 copy stays small.
    func hessianFactor(site: ProjectionInput, input: UnsafeBufferPointer<Float>) throws -> HessianFactor {
        try hessianFactor(width: inputWidth(site), input: input)
    }

    /// H = XXᵀ/n of inputs `input` ([rows][width]), as `hessianFactor(site:input:)`.
    func hessianFactor(width: Int, input: UnsafeBufferPointer<Float>) throws -> HessianFactor {
        let rows = input.count / width
        let rot = try rotation(width: width)
        var accumulator = try HessianAccumulator(cols: width)
        let chunk = 2048
        for start in stride(from: 0, to: rows, by: chunk) {
            let n = min(chunk, rows - start)
            var batch = Array(input[(start * width)..<((start + n) * width)])
            rot?.apply(to: &batch)
            try accumulator.add(batch, tokens: n)
        }
        return try HessianFactor(hessian: accumulator.hessian(), cols: width)
    }

    private func inputWidth(_ site: ProjectionInput) -> Int {
        switch site {
        case .attention, .mlp: model.config.dim
        case .attentionOutput: model.config.qDim
        case .mlpHidden: model.config.hiddenDim
        }
    }

    /// Quantizes one projection against `factor`, then puts its dequantized weights (back in the
    /// original basis) into the model so the rest of the block runs through them.
    private func quantize(layer: Int, projection p: TensorName.Projection, bits: Int,
                          factor: HessianFactor) throws -> (projection: QuantizedProjection, relativeError: Double) {
        let fitted = try fit(layer: layer, projection: p, bits: bits, factor: factor, refinementRounds: options.refinementRounds)
        model.setWeights(fitted.deployed, projection: p, layer: layer)
        let scales = try EncodedScales(encoding: fitted.linear, terms: options.apotTerms)
        return (QuantizedProjection(layer: layer, projection: p, linear: fitted.linear, scales: scales), fitted.relativeError)
    }

    /// One projection of the model as it stands quantized against `factor`: the fit, its weights
    /// as deployed (dequantized, in the original basis) and its relative output error.
    func fit(layer: Int, projection p: TensorName.Projection, bits: Int, factor: HessianFactor,
             refinementRounds: Int) throws -> (linear: QuantizedLinear, deployed: [Float], relativeError: Double) {
        let shape = ModelDescription.projectionShape(p, config: model.config)
        return try fit(weights: model.weights(projection: p, layer: layer), rows: shape[0], cols: shape[1], bits: bits,
                       factor: factor, refinementRounds: refinementRounds)
    }

    /// Weights `w` ([rows][cols]) quantized with the projections' options against `factor`, as
    /// `fit(layer:projection:...)`.
    func fit(weights: [Float], rows: Int, cols: Int, bits: Int, factor: HessianFactor,
             refinementRounds: Int) throws -> (linear: QuantizedLinear, deployed: [Float], relativeError: Double) {
        var w = weights
        let rot = try rotation(width: cols)
        rot?.apply(to: &w)
        var quantOptions = QuantizationOptions(bits: bits, groupSize: options.groupSize, apotTerms: options.apotTerms,
                                               refinementRounds: refinementRounds)
        quantOptions.scaleRefitPasses = options.scaleRefitPasses
        quantOptions.fitKinds = options.fitKinds
        let linear = switch options.objective {
        case .output: try BinaryCodingQuantizer.quantize(weights: w, rows: rows, cols: cols, factor: factor, options: quantOptions)
        case .weight: try BinaryCodingQuantizer.quantize(weights: w, rows: rows, cols: cols, options: quantOptions)
        }
        var deployed = linear.dequantized()
        let error = Self.relativeOutputError(original: w, quantized: deployed, rows: rows, cols: cols,
                                             hessian: factor.dampedHessian)
        rot?.applyInverse(to: &deployed)
        return (linear, deployed, error)
    }

    /// tr(E H Eᵀ) / tr(W H Wᵀ) with E = W − Ŵ and H the damped Hessian: the output error relative
    /// to the output energy.
    static func relativeOutputError(original w: [Float], quantized q: [Float], rows: Int, cols: Int, hessian h: [Double]) -> Double {
        func energy(_ m: [Double]) -> Double {
            var mh = [Double](repeating: 0, count: rows * cols)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(cols),
                        1, m, Int32(cols), h, Int32(cols), 0, &mh, Int32(cols))
            return zip(mh, m).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let wd = w.map(Double.init)
        let e = zip(w, q).map { Double($0) - Double($1) }
        let total = energy(wd)
        return total > 0 ? energy(e) / total : 0
    }

    /// Runs block `layer` over the calibration hidden states `x`, handing `body` each projection
    /// group's input just before the group reads it; the first error stops the pass and is rethrown.
    func forEachProjectionInput(ofBlock layer: Int, x: inout [Float], sequences: Int, length: Int,
                                        _ body: (Int, ProjectionInput, UnsafeBufferPointer<Float>) throws -> Void) throws {
        var failure: Error?
        withoutActuallyEscaping(body) { body in
            model.forwardBlock(layer, x: &x, sequences: sequences, length: length) { layer, site, input in
                guard failure == nil else { return }
                do { try body(layer, site, input) } catch { failure = error }
            }
        }
        if let failure { throw failure }
    }
}

/// One converted projection with its encoded scales.
struct QuantizedProjection {
    let layer: Int
    let projection: TensorName.Projection
    let linear: QuantizedLinear
    let scales: EncodedScales
}
