import CShiftKernels
import Testing

/// Deterministic generator for test data (xorshift64).
struct KernelRandom {
    private var state: UInt64

    init(seed: UInt64) { state = (seed &+ 1) &* 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Uniform in [-1, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    /// A sum of one to three signed powers of two between 2^-8 and 2^-1, like converter scales.
    mutating func powerOfTwoSum() -> Float {
        var sum: Float = 0
        for _ in 0...below(3) {
            let term = Float(sign: .plus, exponent: -1 - below(8), significand: 1)
            sum += next() & 1 == 0 ? term : -term
        }
        return sum
    }

    /// Activations with occasional outliers ten times the typical size.
    mutating func activations(_ count: Int) -> [Float] {
        (0..<count).map { _ in unit() * (below(16) == 0 ? 10 : 1) }
    }
}

/// The instruction sets a layer can be forced onto.
struct KernelISA: CustomTestStringConvertible, Sendable {
    let value: Int32
    var testDescription: String { String(cString: sa_isa_name(sa_isa(rawValue: UInt32(value)))) }

    static let all = [SA_ISA_SCALAR, SA_ISA_AVX2, SA_ISA_AVX512].map { KernelISA(value: Int32($0.rawValue)) }
    static let scalar = all[0]

    /// The level SA_ISA_BEST resolves to: this CPU's best, or the lower one SHIFTADD_KERNELS sets.
    static let best: Int32 = {
        let layer = CanonicalLayer(rows: 1, cols: 8, groupSize: 8, bits: 1, withBeta: false, seed: 0)
        let q = try! layer.make(isa: SA_ISA_BEST)
        defer { sa_qlinear_free(q) }
        return sa_qlinear_isa(q)
    }()

    var isAvailable: Bool { value <= KernelISA.best }
}

/// True when `isa` runs here (on this CPU, at most SHIFTADD_KERNELS's level); otherwise checks that
/// asking for it fails with SA_ERR_ISA.
func runsHere(_ isa: KernelISA) -> Bool {
    if isa.isAvailable { return true }
    let layer = CanonicalLayer(rows: 1, cols: 8, groupSize: 8, bits: 1, withBeta: false, seed: 0)
    #expect(throws: KernelError(status: SA_ERR_ISA.rawValue)) { try layer.make(isa: isa.value) }
    return false
}

struct KernelError: Error, Equatable {
    let status: Int32
}

/// A layer in the canonical form the kernels take: planes [bits][rows][words], alpha
/// [rows][groups][bits], beta [rows][groups].
struct CanonicalLayer {
    let rows: Int
    let cols: Int
    let groupSize: Int
    let bits: Int
    var planes: [UInt64]
    var alpha: [Float]
    var beta: [Float]?

    var groups: Int { (cols + groupSize - 1) / groupSize }
    var wordsPerRow: Int { (cols + 63) / 64 }

    init(rows: Int, cols: Int, groupSize: Int, bits: Int, withBeta: Bool, seed: UInt64) {
        self.rows = rows
        self.cols = cols
        self.groupSize = groupSize
        self.bits = bits
        var random = KernelRandom(seed: seed)
        let words = (cols + 63) / 64
        let groups = (cols + groupSize - 1) / groupSize
        let tailMask: UInt64 = cols % 64 == 0 ? ~0 : (1 << UInt64(cols % 64)) - 1
        planes = (0..<bits * rows * words).map { i in
            let word = random.next()
            return i % words == words - 1 ? word & tailMask : word
        }
        alpha = (0..<rows * groups * bits).map { _ in random.powerOfTwoSum() }
        beta = withBeta ? (0..<rows * groups).map { _ in random.powerOfTwoSum() } : nil
    }

    func bit(plane: Int, row: Int, col: Int) -> Bool {
        (planes[(plane * rows + row) * wordsPerRow + col / 64] >> UInt64(col % 64)) & 1 == 1
    }

    func weight(row: Int, col: Int) -> Double {
        let g = col / groupSize
        var v = Double(beta?[row * groups + g] ?? 0)
        for p in 0..<bits {
            let a = Double(alpha[(row * groups + g) * bits + p])
            v += bit(plane: p, row: row, col: col) ? a : -a
        }
        return v
    }

    /// Creates the native layer; throws the status on failure.
    func make(isa: Int32) throws(KernelError) -> OpaquePointer {
        var status: Int32 = 0
        let q = planes.withUnsafeBufferPointer { planes in
            alpha.withUnsafeBufferPointer { alpha in
                let create = { (beta: UnsafePointer<Float>?) -> OpaquePointer? in
                    var desc = sa_qlinear_desc(
                        rows: Int32(rows), cols: Int32(cols), group_size: Int32(groupSize),
                        bits: Int32(bits), planes: planes.baseAddress, alpha: alpha.baseAddress,
                        beta: beta)
                    return sa_qlinear_create(&desc, isa, &status)
                }
                if let beta { return beta.withUnsafeBufferPointer { create($0.baseAddress) } }
                return create(nil)
            }
        }
        guard let q else { throw KernelError(status: status) }
        return q
    }

    /// Exact product y[t][r] in Double.
    func reference(x: [Float], tokens: Int) -> [Double] {
        var w = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols { w[r * cols + c] = weight(row: r, col: c) }
        }
        var y = [Double](repeating: 0, count: tokens * rows)
        for t in 0..<tokens {
            for r in 0..<rows {
                var s = 0.0
                for c in 0..<cols { s += w[r * cols + c] * Double(x[t * cols + c]) }
                y[t * rows + r] = s
            }
        }
        return y
    }

    /// Largest allowed |kernel - exact| for token t, row r, given the table steps.
    ///
    /// Each 4-activation table entry is off by at most half a step, and a group of length L
    /// has ceil(L / 4) entries per plane, each scaled by |alpha|. Float rounding (table sums,
    /// the lane sums of beta's activation sum, and the per-group accumulation) adds a few
    /// units in the last place relative to sum over groups of (sum |alpha| + |beta|) * sum |x|.
    func errorBound(x: [Float], token t: Int, row r: Int, step: (Int) -> Float) -> Double {
        var quantization = 0.0
        var magnitude = 0.0
        for g in 0..<groups {
            let first = g * groupSize
            let length = min(groupSize, cols - first)
            let alphaSum = (0..<bits).reduce(0.0) { $0 + abs(Double(alpha[(r * groups + g) * bits + $1])) }
            let betaAbs = abs(Double(beta?[r * groups + g] ?? 0))
            let xAbs = (first..<first + length).reduce(0.0) { $0 + abs(Double(x[t * cols + $1])) }
            quantization += alphaSum * Double(step(g)) * 0.5 * Double((length + 3) / 4)
            magnitude += (alphaSum + betaAbs) * xAbs
        }
        let roundingTerms = Double(groups + bits + groupSize / 8 + 8)
        return quantization + 8 * Double(Float.ulpOfOne) * roundingTerms * magnitude
    }
}

/// Outcome of one product: outputs and the table steps it used.
struct Product {
    var y: [Float]
    var steps: [Float] // [token][group]
    let groups: Int

    func step(token: Int, group: Int) -> Float { steps[token * groups + group] }
}

/// Builds tables for `tokens` rows of x and applies the layer, optionally on a pool.
func runProduct(_ layer: CanonicalLayer, isa: Int32, lutISA: Int32? = nil, x: [Float], tokens: Int,
                threads: Int = 0) throws(KernelError) -> Product {
    let q = try layer.make(isa: isa)
    defer { sa_qlinear_free(q) }
    var status: Int32 = 0
    guard let lut = sa_lut_create(Int32(tokens), Int32(layer.cols), Int32(layer.groupSize), lutISA ?? isa, &status) else {
        throw KernelError(status: status)
    }
    defer { sa_lut_free(lut) }
    var pool: OpaquePointer?
    if threads > 0 {
        guard let p = sa_threadpool_create(Int32(threads), &status) else { throw KernelError(status: status) }
        pool = p
    }
    defer { sa_threadpool_free(pool) }
    var y = [Float](repeating: .nan, count: tokens * layer.rows)
    status = x.withUnsafeBufferPointer { x in
        y.withUnsafeMutableBufferPointer { y in
            sa_qlinear_forward(q, lut, x.baseAddress, y.baseAddress, Int32(tokens), pool)
        }
    }
    guard status == SA_OK.rawValue else { throw KernelError(status: status) }
    var steps: [Float] = []
    for t in 0..<tokens {
        for g in 0..<layer.groups { steps.append(sa_lut_scale(lut, Int32(t), Int32(g))) }
    }
    return Product(y: y, steps: steps, groups: layer.groups)
}

func bitPatterns(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }
