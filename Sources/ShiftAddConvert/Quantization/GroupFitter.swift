import CShiftKernels
import ShiftAddBundle

/// The ways a row-group's scales can be fitted; a quantizer tries every kind in its set and keeps
/// the one with the least error.
public struct GroupFitKinds: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Binary coding without offset: alternating least-squares α / nearest B from three starts
    /// (greedy Bᵢ = sign(residual), αᵢ = mean|residual|; the uniform grid spanning ±max|w|;
    /// plane-by-plane greedy with refinement), keeping the best.
    public static let binaryCoding = GroupFitKinds(rawValue: 1)
    /// The same with an offset β fitted as an extra least-squares column (the greedy starts work
    /// around the mean; the grid start is the range-preserving grid below).
    public static let binaryCodingWithOffset = GroupFitKinds(rawValue: 2)
    /// Range-preserving uniform grid: β = (max + min) / 2, αᵢ = 2ⁱ · (max − min) / (2 · (2^bits − 1)),
    /// so the 2^bits values evenly cover [min, max] (outliers keep their magnitude).
    public static let rangeGrid = GroupFitKinds(rawValue: 4)

    public static let all: GroupFitKinds = [.binaryCoding, .binaryCodingWithOffset, .rangeGrid]

    /// The sets `--fits` names: all, bcq (binary coding without offset), offset (with offset) and
    /// grid (the range-preserving grid alone, a round-to-nearest baseline).
    public static let named: [String: GroupFitKinds] = [
        "all": .all, "bcq": .binaryCoding, "offset": .binaryCodingWithOffset, "grid": .rangeGrid,
    ]

    /// This set's name in `named`, or its raw value.
    public var name: String { Self.named.first { $0.value == self }?.key ?? "\(rawValue)" }

    /// The single kinds in this set, in a fixed order.
    var members: [GroupFitKinds] { [.binaryCoding, .binaryCodingWithOffset, .rangeGrid].filter(contains) }
}

/// APoT-rounded scales of one row-group: `alpha[i]` ≥ 0 for planes `0..<bits` (other lanes 0).
struct GroupScales: Equatable {
    var alpha = SIMD4<Float>(repeating: 0)
    var beta: Float = 0

    init() {}

    /// The scales a layer stores for one row-group.
    init(layer: QuantizedLinear, row: Int, group: Int) {
        for p in 0..<layer.bits { alpha[p] = layer.alpha[(row * layer.groupsPerRow + group) * layer.bits + p] }
        beta = layer.beta[row * layer.groupsPerRow + group]
    }

    func levels(bits: Int) -> BinaryLevels { BinaryLevels(alpha: alpha, beta: beta, bits: bits) }
}

/// A fitted row-group, as returned by `GroupFitter.fit(_:base:kind:)`.
public struct GroupFit: Sendable, Equatable {
    public let alpha: [Float]
    public let beta: Float
    /// Σ (w − ŵ)² with every weight mapped to its nearest value.
    public let squaredError: Double
}

/// Fits the scales of one row-group of weights (weight objective: least squares on the values).
/// All scales are rounded to APoT values of the row base given and every alternating step is
/// evaluated after rounding. The starts do not depend on `refinementRounds` and each refinement
/// keeps the best state it has seen, so more rounds never increase the error.
public struct GroupFitter: Sendable {
    public let bits: Int
    public let apotTerms: Int
    public let refinementRounds: Int
    let grid: APoTGrid

    /// Refinement rounds of the intermediate stages of the incremental start.
    static let stageRounds = 8

    public init(bits: Int, apotTerms: Int, refinementRounds: Int) throws {
        guard QuantizedLinear.bitsRange.contains(bits) else { throw QuantizationError.invalidArgument("bits \(bits)") }
        guard APoTCode.termsRange.contains(apotTerms) else { throw QuantizationError.invalidArgument("APoT terms \(apotTerms)") }
        guard refinementRounds >= 0 else { throw QuantizationError.invalidArgument("refinement rounds \(refinementRounds)") }
        self.bits = bits
        self.apotTerms = apotTerms
        self.refinementRounds = refinementRounds
        self.grid = APoTGrid.forTerms(apotTerms)
    }

    /// Fits `values` with one kind (a single member of `GroupFitKinds`) at row base `base`
    /// (see `APoTGrid.rowBase(maxMagnitude:)`).
    public func fit(_ values: [Float], base: Int, kind: GroupFitKinds) -> GroupFit {
        precondition(kind.members.count == 1, "fit takes exactly one kind")
        let (scales, error) = values.withUnsafeBufferPointer { fit($0, base: base, kind: kind) }
        return GroupFit(alpha: (0..<bits).map { scales.alpha[$0] }, beta: scales.beta, squaredError: error)
    }

    func fit(_ x: UnsafeBufferPointer<Float>, base: Int, kind: GroupFitKinds) -> (GroupScales, Double) {
        guard !x.isEmpty else { return (GroupScales(), 0) }
        if kind == .rangeGrid {
            let scales = rangeGridStart(x, planes: bits, base: base)
            return (scales, assign(x, scales, planes: bits).error)
        }
        let offset = kind == .binaryCodingWithOffset
        // Alternating least squares has many local minima when a group holds outliers, so it is
        // run from three starts: greedy; the uniform grid spanning the values (reaches outliers);
        // and incremental, one greedy plane at a time on top of the refined fit with one plane
        // fewer (which keeps the error falling as bits are added).
        var best = refine(x, from: greedyStart(x, planes: bits, base: base, offset: offset),
                          planes: bits, offset: offset, base: base, rounds: refinementRounds)
        let grid = offset ? rangeGridStart(x, planes: bits, base: base) : symmetricGridStart(x, planes: bits, base: base)
        let spanning = refine(x, from: grid, planes: bits, offset: offset, base: base, rounds: refinementRounds)
        if spanning.1 < best.1 { best = spanning }
        if bits > 1 {
            var stage = refine(x, from: greedyStart(x, planes: 1, base: base, offset: offset),
                               planes: 1, offset: offset, base: base, rounds: Self.stageRounds)
            for planes in 2...bits {
                let start = addingGreedyPlane(x, to: stage.0, planes: planes, base: base)
                let rounds = planes == bits ? refinementRounds : Self.stageRounds
                stage = refine(x, from: start, planes: planes, offset: offset, base: base, rounds: rounds)
            }
            if stage.1 < best.1 { best = stage }
        }
        return best
    }

    /// Alternating least squares from `start`; returns the best rounded state seen and its error.
    private func refine(_ x: UnsafeBufferPointer<Float>, from start: GroupScales, planes: Int, offset: Bool,
                        base: Int, rounds: Int) -> (GroupScales, Double) {
        var current = start
        var state = assign(x, current, planes: planes)
        var best = (current, state.error)
        for _ in 0..<rounds {
            guard let next = leastSquares(state, planes: planes, offset: offset, base: base), next != current else { break }
            current = next
            state = assign(x, current, planes: planes)
            if state.error < best.1 { best = (current, state.error) }
        }
        return best
    }

    /// Greedy binary coding of the residual around β (the mean, or 0).
    private func greedyStart(_ x: UnsafeBufferPointer<Float>, planes: Int, base: Int, offset: Bool) -> GroupScales {
        var mean: Double = 0
        if offset {
            for v in x { mean += Double(v) }
            mean /= Double(x.count)
        }
        var alpha = SIMD4<Double>(repeating: 0)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: x.count) { residual in
            for i in 0..<x.count { residual[i] = Double(x[i]) - mean }
            for p in 0..<planes {
                var sum: Double = 0
                for r in residual { sum += Swift.abs(r) }
                let a = sum / Double(x.count)
                alpha[p] = a
                for i in 0..<x.count { residual[i] -= residual[i] >= 0 ? a : -a }
            }
        }
        return rounded(alpha: alpha, beta: mean, planes: planes, base: base)
    }

    /// `scales` (with `planes − 1` planes) plus a last plane: the sign of each weight's residual
    /// from its nearest value, scaled by the mean absolute residual.
    private func addingGreedyPlane(_ x: UnsafeBufferPointer<Float>, to scales: GroupScales, planes: Int,
                                   base: Int) -> GroupScales {
        let levels = scales.levels(bits: planes - 1)
        var sum: Double = 0
        for v in x { sum += Swift.abs(Double(v) - Double(levels.nearestValue(v))) }
        var next = scales
        next.alpha[planes - 1] = Swift.abs(grid.round(sum / Double(x.count), base: base))
        return next
    }

    /// Uniform grid without offset spanning [−max|x|, max|x|].
    private func symmetricGridStart(_ x: UnsafeBufferPointer<Float>, planes: Int, base: Int) -> GroupScales {
        var top: Float = 0
        for v in x { top = Swift.max(top, Swift.abs(v)) }
        let step = Double(top) / Double((1 << planes) - 1)
        var alpha = SIMD4<Double>(repeating: 0)
        for p in 0..<planes { alpha[p] = step * Double(1 << p) }
        return rounded(alpha: alpha, beta: 0, planes: planes, base: base)
    }

    /// The range-preserving grid (see `GroupFitKinds.rangeGrid`).
    private func rangeGridStart(_ x: UnsafeBufferPointer<Float>, planes: Int, base: Int) -> GroupScales {
        var lo = x[0]
        var hi = x[0]
        for v in x {
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        let step = (Double(hi) - Double(lo)) / Double(2 * ((1 << planes) - 1))
        var alpha = SIMD4<Double>(repeating: 0)
        for p in 0..<planes { alpha[p] = step * Double(1 << p) }
        return rounded(alpha: alpha, beta: (Double(hi) + Double(lo)) / 2, planes: planes, base: base)
    }

    private func rounded(alpha: SIMD4<Double>, beta: Double, planes: Int, base: Int) -> GroupScales {
        var s = GroupScales()
        // A negative α is the same set of values as its absolute value with the bits flipped.
        for p in 0..<planes { s.alpha[p] = Swift.abs(grid.round(alpha[p], base: base)) }
        s.beta = grid.round(beta, base: base)
        return s
    }

    /// Result of mapping every weight to its nearest value: the error and, per bit pattern, the
    /// count and sum of the weights that chose it (all the least-squares step needs).
    struct Assignment {
        var error: Double = 0
        /// Counts in 0..<16, sums in 16..<32.
        var table = InlineArray<32, Double>(repeating: 0)
    }

    func assign(_ x: UnsafeBufferPointer<Float>, _ scales: GroupScales, planes: Int) -> Assignment {
        var a = Assignment()
        let levels = scales.levels(bits: planes)
        let error = withUnsafeMutableBytes(of: &a.table) { bytes in
            let t = bytes.baseAddress!.assumingMemoryBound(to: Double.self)
            return withUnsafePointer(to: levels.table) { l in sa_levels_assign(l, x.baseAddress, x.count, t, t + 16) }
        }
        a.error = error
        return a
    }

    /// Least-squares α (and β) for the bit patterns of an assignment, APoT-rounded; nil when the
    /// normal equations are singular (e.g. two planes equal on this group).
    private func leastSquares(_ a: Assignment, planes: Int, offset: Bool, base: Int) -> GroupScales? {
        var alpha = SIMD4<Double>(repeating: 0)
        var beta: Double = 0
        let status = withUnsafeBytes(of: a.table) { bytes in
            let t = bytes.baseAddress!.assumingMemoryBound(to: Double.self)
            return withUnsafeMutableBytes(of: &alpha) { al in
                sa_bcq_least_squares(t, t + 16, Int32(planes), offset ? 1 : 0,
                                     al.baseAddress!.assumingMemoryBound(to: Double.self), &beta)
            }
        }
        guard status == 0 else { return nil }
        return rounded(alpha: alpha, beta: beta, planes: planes, base: base)
    }
}
