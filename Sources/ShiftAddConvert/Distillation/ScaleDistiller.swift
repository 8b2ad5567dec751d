import Foundation
import ShiftAddBundle
import ShiftAddEngine
import ShiftAddModel

/// End-to-end distillation of the converted projections' scales: with every bit plane fixed, the
/// α and β of all projections are tuned together so that the converted model's next-token
/// distributions match the reference model's (KL divergence on calibration sequences), then
/// rounded back to sums of at most `apotTerms` signed powers of two.
///
/// The gradient of a scale is the weight gradient of its group read through its plane:
/// ∂L/∂α[r,g,p] = Σ_{c∈g} ∂L/∂Ŵ[r,c]·b_p[r,c] and ∂L/∂β[r,g] = Σ_{c∈g} ∂L/∂Ŵ[r,c], in the
/// rotated basis the planes live in (∂L/∂Ŵ = R·∂L/∂W row by row). Updates are Adam's, each scale's
/// step relative to the largest initial α of its group, so one learning rate serves every layer.
public struct ScaleDistiller {
    struct Settings: Equatable {
        /// Optimizer steps; 0 turns distillation off.
        var steps: Int
        /// Calibration sequences per step.
        var sequencesPerStep: Int
        /// Adam step relative to a group's largest initial scale.
        var learningRate: Float
    }

    /// One projection's trainable scales, in the quantizer's layout.
    private struct Scales {
        let index: Int
        var alpha: [Float]
        var beta: [Float]
        /// Largest initial α of each (row, group): the unit of its updates.
        let unit: [Float]
        var moments: [Float]
        var squares: [Float]
    }

    /// The mean KL on the first step's sequences before distillation, after it with the scales as
    /// trained, and after their rounding; and each step's loss.
    public struct Report: Sendable, Equatable {
        public internal(set) var before: Double
        public internal(set) var trained: Double
        public internal(set) var rounded: Double
        public internal(set) var steps: [Double]
        /// Whether the distilled scales were kept: not when their rounded KL on the first batch,
        /// which training has seen, is no lower than the layer-wise scales'.
        public var kept: Bool { rounded < before }
    }

    let settings: Settings
    let apotTerms: Int
    /// The rotation of an input width (nil without rotation).
    let rotation: (Int) throws -> HadamardRotation?

    /// Tunes the scales of `projections` in `student` (whose weights are their dequantized forms)
    /// against `teacher` on `sequences`, and returns the projections with rounded scales, the
    /// student's weights set to them; or, when that did not lower the KL on the first batch (see
    /// `Report.kept`), `projections` as they came, the student's weights back to them.
    /// `progress` gets each step's mean KL.
    func distil(_ projections: [QuantizedProjection], student: ReferenceModel, teacher: ReferenceModel,
                sequences: [[Int]], progress: (Int, Double) -> Void) throws -> (projections: [QuantizedProjection], report: Report) {
        var scales = projections.enumerated().map { i, q -> Scales in
            let l = q.linear
            let groups = l.rows * l.groupsPerRow
            var unit = [Float](repeating: 0, count: groups)
            for rg in 0..<groups {
                let m = l.alpha[(rg * l.bits)..<((rg + 1) * l.bits)].max() ?? 0
                unit[rg] = m > 0 ? m : 1e-6
            }
            let count = l.alpha.count + l.beta.count
            return Scales(index: i, alpha: l.alpha, beta: l.beta, unit: unit,
                          moments: [Float](repeating: 0, count: count), squares: [Float](repeating: 0, count: count))
        }
        let byLayer = Dictionary(grouping: projections.indices) { projections[$0].layer }
        let beta1: Float = 0.9, beta2: Float = 0.999
        let vocab = student.config.vocabSize
        func batch(_ step: Int) -> [[Int]] {
            let first = (step * settings.sequencesPerStep) % sequences.count
            return (0..<settings.sequencesPerStep).map { sequences[(first + $0) % sequences.count] }
        }
        let probe = batch(0)
        let probeTargets = probe.flatMap { teacher.logits(tokens: $0) }
        func probeLoss() -> Double {
            var logits = probe.flatMap { student.logits(tokens: $0) }
            return Self.klGradient(&logits, teacher: probeTargets, vocab: vocab)
        }
        var report = Report(before: probeLoss(), trained: 0, rounded: 0, steps: [])
        for step in 0..<settings.steps {
            let sequences = batch(step)
            let targets = step == 0 ? probeTargets : sequences.flatMap { teacher.logits(tokens: $0) }
            let (loss, gradients) = student.weightGradients(sequences: sequences) { logits in
                Self.klGradient(&logits, teacher: targets, vocab: vocab)
            }
            report.steps.append(loss)
            progress(step + 1, loss)
            let correction1 = 1 - pow(beta1, Float(step + 1)), correction2 = 1 - pow(beta2, Float(step + 1))
            let rate = settings.learningRate * Self.schedule(step: step, steps: settings.steps)
            for (layer, indices) in byLayer {
                for i in indices {
                    let q = projections[i]
                    var g = gradients[layer][q.projection]!
                    try rotation(q.linear.cols)?.apply(to: &g)
                    let (dAlpha, dBeta) = Self.scaleGradients(q.linear, weightGradient: g)
                    Self.adam(&scales[i], dAlpha: dAlpha, dBeta: dBeta, bits: q.linear.bits, rate: rate,
                              beta1: beta1, beta2: beta2, correction1: correction1, correction2: correction2)
                    try deploy(q.linear, alpha: scales[i].alpha, beta: scales[i].beta, into: student, q)
                }
            }
        }
        report.trained = probeLoss()
        let result = try projections.indices.map { i in
            let q = projections[i]
            let rounded = try Self.rounded(q.linear, alpha: scales[i].alpha, beta: scales[i].beta, terms: apotTerms)
            try deploy(rounded, alpha: rounded.alpha, beta: rounded.beta, into: student, q)
            return QuantizedProjection(layer: q.layer, projection: q.projection, linear: rounded,
                                       scales: try EncodedScales(encoding: rounded, terms: apotTerms))
        }
        report.rounded = probeLoss()
        guard report.kept else {
            for q in projections { try deploy(q.linear, alpha: q.linear.alpha, beta: q.linear.beta, into: student, q) }
            return (projections, report)
        }
        return (result, report)
    }

    /// Puts the dense weights of `linear` with scales `alpha`, `beta` (back in the original basis)
    /// into the student.
    private func deploy(_ linear: QuantizedLinear, alpha: [Float], beta: [Float], into student: ReferenceModel,
                        _ q: QuantizedProjection) throws {
        var w = try linear.withScales(alpha: alpha, beta: beta).dequantized()
        try rotation(linear.cols)?.applyInverse(to: &w)
        student.setWeights(w, projection: q.projection, layer: q.layer)
    }

    /// The learning rate's factor at `step`: a linear warm-up over the first tenth of the steps,
    /// then a cosine decay to zero (early Adam steps at the full rate overshoot).
    static func schedule(step: Int, steps: Int) -> Float {
        let warmup = max(1, steps / 10)
        let ramp = min(1, Float(step + 1) / Float(warmup))
        return ramp * 0.5 * (1 + cos(Float.pi * Float(step) / Float(steps)))
    }

    /// Mean over rows of KL(teacher ‖ student) of softmaxed logits; `logits` becomes its gradient,
    /// (p_student − p_teacher) / rows.
    static func klGradient(_ logits: inout [Float], teacher: [Float], vocab: Int) -> Double {
        let rows = logits.count / vocab
        var total: Double = 0
        logits.withUnsafeMutableBufferPointer { s in
            teacher.withUnsafeBufferPointer { t in
                for r in 0..<rows {
                    let sr = s.baseAddress! + r * vocab, tr = t.baseAddress! + r * vocab
                    let ls = LogSoftmax.logNormaliser(UnsafeBufferPointer(start: sr, count: vocab))
                    let lt = LogSoftmax.logNormaliser(UnsafeBufferPointer(start: tr, count: vocab))
                    var kl: Double = 0
                    for j in 0..<vocab {
                        let logPt = Double(tr[j]) - lt, logPs = Double(sr[j]) - ls
                        let pt = exp(logPt)
                        kl += pt * (logPt - logPs)
                        sr[j] = Float((exp(logPs) - pt) / Double(rows))
                    }
                    total += kl
                }
            }
        }
        return total / Double(rows)
    }

    /// ∂L/∂α ([row][group][plane]) and ∂L/∂β ([row][group]) from ∂L/∂Ŵ in the planes' basis.
    static func scaleGradients(_ l: QuantizedLinear, weightGradient g: [Float]) -> (alpha: [Float], beta: [Float]) {
        var dAlpha = [Float](repeating: 0, count: l.alpha.count)
        var dBeta = [Float](repeating: 0, count: l.beta.count)
        let words = l.wordsPerRow, groups = l.groupsPerRow
        g.withUnsafeBufferPointer { g in
            l.planes.withUnsafeBufferPointer { planes in
                for r in 0..<l.rows {
                    let row = g.baseAddress! + r * l.cols
                    for group in 0..<groups {
                        let start = group * l.groupSize, end = min(l.cols, start + l.groupSize)
                        var sum: Float = 0
                        for c in start..<end { sum += row[c] }
                        dBeta[r * groups + group] = sum
                        for p in 0..<l.bits {
                            let line = planes.baseAddress! + (p * l.rows + r) * words
                            // Σ g·b = 2·Σ_{b=+1} g − Σ g.
                            var positive: Float = 0
                            for c in start..<end where (line[c >> 6] >> UInt64(c & 63)) & 1 == 1 { positive += row[c] }
                            dAlpha[(r * groups + group) * l.bits + p] = 2 * positive - sum
                        }
                    }
                }
            }
        }
        return (dAlpha, dBeta)
    }

    private static func adam(_ s: inout Scales, dAlpha: [Float], dBeta: [Float], bits: Int, rate: Float,
                             beta1: Float, beta2: Float, correction1: Float, correction2: Float) {
        func update(_ value: inout Float, gradient: Float, slot: Int, unit: Float) {
            s.moments[slot] = beta1 * s.moments[slot] + (1 - beta1) * gradient
            s.squares[slot] = beta2 * s.squares[slot] + (1 - beta2) * gradient * gradient
            let m = s.moments[slot] / correction1, v = s.squares[slot] / correction2
            value -= rate * unit * m / (v.squareRoot() + 1e-12)
        }
        for i in 0..<dAlpha.count { update(&s.alpha[i], gradient: dAlpha[i], slot: i, unit: s.unit[i / bits]) }
        for i in 0..<dBeta.count { update(&s.beta[i], gradient: dBeta[i], slot: dAlpha.count + i, unit: s.unit[i]) }
    }

    /// `l` with scales `alpha`, `beta` rounded to at most `terms` powers of two on a base per row
    /// two octaves above the row's largest scale, negative α folded into the planes.
    static func rounded(_ l: QuantizedLinear, alpha: [Float], beta: [Float], terms: Int) throws -> QuantizedLinear {
        let grid = APoTGrid.forTerms(terms)
        let groups = l.groupsPerRow, perRow = groups * l.bits
        var a = alpha, b = beta
        for r in 0..<l.rows {
            let largest = max(alpha[(r * perRow)..<((r + 1) * perRow)].map(abs).max() ?? 0,
                              beta[(r * groups)..<((r + 1) * groups)].map(abs).max() ?? 0)
            let base = APoTGrid.rowBase(maxMagnitude: largest)
            for i in (r * perRow)..<((r + 1) * perRow) { a[i] = grid.round(Double(alpha[i]), base: base) }
            for i in (r * groups)..<((r + 1) * groups) { b[i] = grid.round(Double(beta[i]), base: base) }
        }
        return try l.withScales(alpha: a, beta: b).foldingNegativeScales()
    }
}

extension QuantizedLinear {
    /// The same planes with other scales.
    func withScales(alpha: [Float], beta: [Float]) throws -> QuantizedLinear {
        try QuantizedLinear(rows: rows, cols: cols, groupSize: groupSize, bits: bits, planes: planes, alpha: alpha, beta: beta)
    }
}
