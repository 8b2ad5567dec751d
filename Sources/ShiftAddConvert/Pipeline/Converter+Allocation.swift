import Foundation
import ShiftAddBundle
import ShiftAddModel

/// Widths per projection for `--avg-bits` and `--max-bytes`: each projection's effect on the
/// model's output is measured, then `BitAllocator` spends the byte budget where it removes the
/// most effect per byte.
extension Converter {
    /// The probe the effects are measured on: the first sequences of the calibration set, cut to
    /// this many sequences of this many tokens (256 tokens keep 210 partial forward passes short).
    static let probeSequences = 2
    static let probeLength = 128
    /// Width each projection is quantized at for its measurement, and the refinement rounds of
    /// that quantization (the measurement ranks projections; it does not need the final fit).
    static let probeWidth = 2
    static let probeRefinementRounds = 3

    /// Every projection of the model in conversion order, with its shape.
    var projectionList: [(layer: Int, projection: TensorName.Projection, rows: Int, cols: Int)] {
        let c = model.config
        return (0..<c.layerCount).flatMap { l in
            TensorName.Projection.allCases.map { p in
                let shape = ModelDescription.projectionShape(p, config: c)
                return (l, p, shape[0], shape[1])
            }
        }
    }

    func projectionBytes(rows: Int, cols: Int, bits: Int) -> Int {
        BundleWriter.projectionBytes(rows: rows, cols: cols, bits: bits, groupSize: options.groupSize, apotTerms: options.apotTerms)
    }

    /// The bytes the projections' tensors may take (nil for uniform widths), checked against the
    /// smallest widths before anything else runs. For `--max-bytes` everything else in the file is
    /// counted as `writer` (all but the projections and a planes head) holds it, with the manifest
    /// at its longest, plus a planes head's tensors.
    func projectionBudget(writer: BundleWriter) throws -> Int? {
        let list = projectionList
        let smallest = list.reduce(0) { $0 + projectionBytes(rows: $1.rows, cols: $1.cols, bits: ConversionOptions.allocationWidths.lowerBound) }
        switch options.bits {
        case .uniform:
            return nil
        case let .average(bits):
            let weights = list.reduce(0) { $0 + $1.rows * $1.cols }
            let budget = Int((bits * Double(weights) / 8).rounded(.down))
            guard budget >= smallest else {
                throw ConversionError.invalidOption(String(
                    format: "--avg-bits %g is below the smallest this model can be stored at: %.3f bits per projection weight (1 bit plane each)",
                    bits, Double(smallest * 8) / Double(weights)))
            }
            return budget
        case let .maxBytes(limit):
            let c = model.config
            let head = options.headPlanes ? projectionBytes(rows: c.vocabSize, cols: c.dim, bits: options.headBits) : 0
            let fixed = try writer.fileSizeBound(addingProjections: list.map { "blk.\($0.layer).\($0.projection.rawValue)" }) + head
            guard limit >= fixed + smallest else {
                throw ConversionError.invalidOption(
                    "--max-bytes \(limit) is below the smallest bundle of this model: \(fixed + smallest) bytes (every projection at 1 bit plane, group size \(options.groupSize))")
            }
            return limit - fixed
        }
    }

    /// Effect of each projection on the output, measured alone: the mean KL divergence of the
    /// next-token distribution on the probe from the full-precision model's, when only that
    /// projection is quantized at `probeWidth` bits (against the Hessian of its full-precision
    /// calibration inputs). Beside it, ShiftAddLLM's sensitivity score from the same Hessian.
    func measureEffects(calibration: CalibrationSet,
                        progress: (Progress) -> Void) throws -> [[TensorName.Projection: (effect: Double, sensitivity: Double)]] {
        let c = model.config
        let sequences = calibration.sequences.count, length = calibration.sequences[0].count
        let probeCount = min(Self.probeSequences, sequences), probeLength = min(Self.probeLength, length)
        let probe = calibration.sequences.prefix(probeCount).flatMap { $0.prefix(probeLength) }

        // The full-precision model on the probe: each block's input and the final log-probabilities.
        var blockInputs: [[Float]] = []
        var x = model.embed(probe)
        for l in 0..<c.layerCount {
            blockInputs.append(x)
            model.forwardBlock(l, x: &x, sequences: probeCount, length: probeLength)
        }
        let reference = Self.logSoftmax(model.outputLogits(x), vocab: c.vocabSize)

        var measured = [[TensorName.Projection: (effect: Double, sensitivity: Double)]](repeating: [:], count: c.layerCount)
        var calibrationStates = model.embed(calibration.sequences.flatMap { $0 })
        let started = Date()
        for l in 0..<c.layerCount {
            // Quantized candidates of this block's projections, fitted while the block runs over
            // the calibration set; measured after it, with every other weight at full precision.
            var candidates: [(TensorName.Projection, [Float], Double)] = []
            try forEachProjectionInput(ofBlock: l, x: &calibrationStates, sequences: sequences, length: length) { layer, site, input in
                let factor = try hessianFactor(site: site, input: input)
                for p in site.projections {
                    let shape = ModelDescription.projectionShape(p, config: c)
                    var rotated = model.weights(projection: p, layer: layer)
                    try rotation(width: shape[1])?.apply(to: &rotated)
                    let score = try LayerSensitivity.score(weights: rotated, rows: shape[0], cols: shape[1], factor: factor)
                    let trial = try fit(layer: layer, projection: p, bits: Self.probeWidth, factor: factor,
                                        refinementRounds: min(options.refinementRounds, Self.probeRefinementRounds))
                    candidates.append((p, trial.deployed, score))
                }
            }
            for (p, deployed, score) in candidates {
                let original = model.weights(projection: p, layer: l)
                model.setWeights(deployed, projection: p, layer: l)
                var y = blockInputs[l]
                for m in l..<c.layerCount { model.forwardBlock(m, x: &y, sequences: probeCount, length: probeLength) }
                // Rounding can leave a divergence a hair below zero where the effect is nil.
                let effect = max(0, Self.meanDivergence(reference: reference, logits: model.outputLogits(y), vocab: c.vocabSize))
                model.setWeights(original, projection: p, layer: l)
                measured[l][p] = (effect, score)
            }
            progress(Progress(stage: "measure", done: l + 1, total: c.layerCount,
                              detail: String(format: "effect of each projection on the output, %.0fs", Date().timeIntervalSince(started))))
        }
        let flat = measured.flatMap { block in TensorName.Projection.allCases.map { block[$0]! } }
        let tau = BitAllocator.kendallTau(flat.map(\.effect), flat.map(\.sensitivity))
        progress(Progress(stage: "measure", done: c.layerCount, total: c.layerCount,
                          detail: String(format: "Kendall tau of the sensitivity score against the measured effect: %.3f", tau)))
        return measured
    }

    /// What measured effects depend on: the checkpoint, every option but the size target and the
    /// head's form (the probe runs the full-precision head), and the probe's settings. A file of effects is reused only under the same key.
    func effectsKey() throws -> [String: String] {
        var key = options.recorded.filter { !["bits", "avg-bits", "max-bytes", "head-bits"].contains($0.key) }
        key["source-sha256"] = try SourceDigest.sha256(path: source.path)
        key["probe"] = "\(Self.probeSequences)x\(Self.probeLength) tokens, \(Self.probeWidth) planes, \(Self.probeRefinementRounds) rounds"
        return key
    }

    private struct EffectsFile: Codable {
        var key: [String: String]
        /// Per projection in conversion order: measured effect and sensitivity score.
        var effects: [[Double]]
    }

    /// The effects in `path` when it holds a measurement under the same key, else nil.
    func loadEffects(path: String) throws -> [[TensorName.Projection: (effect: Double, sensitivity: Double)]]? {
        guard let data = FileManager.default.contents(atPath: path),
              let file = try? JSONDecoder().decode(EffectsFile.self, from: data), file.key == (try effectsKey()) else { return nil }
        let list = projectionList
        guard file.effects.count == list.count, file.effects.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isFinite) }) else { return nil }
        var measured = [[TensorName.Projection: (effect: Double, sensitivity: Double)]](repeating: [:], count: model.config.layerCount)
        for (e, v) in zip(list, file.effects) { measured[e.layer][e.projection] = (max(0, v[0]), v[1]) }
        return measured
    }

    func saveEffects(_ measured: [[TensorName.Projection: (effect: Double, sensitivity: Double)]], path: String) throws {
        let file = EffectsFile(key: try effectsKey(), effects: projectionList.map { e in
            let m = measured[e.layer][e.projection]!
            return [m.effect, m.sensitivity]
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(file).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ConversionError.invalidOption("--effects \(path): cannot write: \(error.localizedDescription)")
        }
    }

    /// Widths for `budget` bytes of projection tensors. The effect at width b is modelled from the
    /// one measured at `probeWidth` as falling fourfold per added bit plane (the quantization
    /// error's energy halves in amplitude per plane).
    func allocateBits(effects: [[TensorName.Projection: Double]], budget: Int) throws -> [[TensorName.Projection: Int]] {
        let list = projectionList
        let candidates = list.map { e in
            ConversionOptions.allocationWidths.reduce(into: [BitAllocator.Candidate]()) { widths, b in
                let c = BitAllocator.Candidate(bits: b, bytes: projectionBytes(rows: e.rows, cols: e.cols, bits: b),
                                               effect: effects[e.layer][e.projection]! * pow(4, Double(Self.probeWidth - b)))
                // A wider candidate that pads to the same bytes replaces the narrower one.
                if widths.last?.bytes == c.bytes { widths.removeLast() }
                widths.append(c)
            }
        }
        let chosen = try BitAllocator.allocate(candidates, budget: budget)
        var result = [[TensorName.Projection: Int]](repeating: [:], count: model.config.layerCount)
        for (e, (c, k)) in zip(list, zip(candidates, chosen)) { result[e.layer][e.projection] = c[k].bits }
        return result
    }

    /// Row-wise log-softmax of [rows][vocab] logits.
    static func logSoftmax(_ logits: [Float], vocab: Int) -> [Float] {
        var out = logits
        for r in 0..<(logits.count / vocab) {
            let row = r * vocab
            let peak = logits[row..<(row + vocab)].max()!
            var sum: Float = 0
            for v in row..<(row + vocab) { sum += exp(logits[v] - peak) }
            let shift = peak + log(sum)
            for v in row..<(row + vocab) { out[v] = logits[v] - shift }
        }
        return out
    }

    /// Mean over rows of KL(p ‖ q), p from reference log-probabilities, q from `logits`.
    static func meanDivergence(reference: [Float], logits: [Float], vocab: Int) -> Double {
        let q = logSoftmax(logits, vocab: vocab)
        let rows = logits.count / vocab
        var total = 0.0
        for r in 0..<rows {
            var kl: Float = 0
            for v in (r * vocab)..<((r + 1) * vocab) { kl += exp(reference[v]) * (reference[v] - q[v]) }
            total += Double(kl)
        }
        return total / Double(rows)
    }
}
