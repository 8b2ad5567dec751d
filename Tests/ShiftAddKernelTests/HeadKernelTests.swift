import CShiftKernels
import Testing

/// An fp16 head and fp32 tokens for the int8 output head.
struct HeadCase: CustomTestStringConvertible, Sendable {
    let rows: Int
    let cols: Int
    let tokens: Int
    var testDescription: String { "\(rows)x\(cols) T\(tokens)" }
}

/// Owns one int8 head built from random fp16 rows.
final class HeadData {
    let shape: HeadCase
    let w: [UInt16]
    let x: [Float]
    let head: OpaquePointer
    static let seed: UInt64 = 7

    init(_ shape: HeadCase, seed: UInt64) throws {
        self.shape = shape
        var random = KernelRandom(seed: seed)
        // A few large weights, as in trained heads, so the rotation has outliers to spread.
        w = (0..<shape.rows * shape.cols).map { _ in sa_float_to_half(random.unit() * (random.below(64) == 0 ? 4 : 0.5)) }
        x = random.activations(shape.tokens * shape.cols)
        var err: Int32 = 0
        guard let h = sa_i8_head_create(Int32(shape.rows), Int32(shape.cols), Self.seed, &err) else { throw KernelError(status: err) }
        head = h
        // In two calls, so the row offset of sa_i8_head_quantize is exercised.
        let split = shape.rows / 3
        for (r0, r1) in [(0, split), (split, shape.rows)] {
            let status = sa_i8_head_quantize(h, Array(w[(r0 * shape.cols)...]), Int32(r0), Int32(r1))
            guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        }
    }

    deinit { sa_i8_head_free(head) }

    /// y [tokens][rows] for `tokens` tokens of x from token `first`, or throws the status.
    func run(isa: Int32, first: Int = 0, tokens: Int? = nil, threads: Int = 0, x override: [Float]? = nil) throws(KernelError) -> [Float] {
        let n = tokens ?? shape.tokens
        var y = [Float](repeating: 0, count: n * shape.rows)
        var status: Int32 = 0
        var pool: OpaquePointer?
        if threads > 0 {
            guard let p = sa_threadpool_create(Int32(threads), &status) else { throw KernelError(status: status) }
            pool = p
        }
        defer { sa_threadpool_free(pool) }
        let xs = override ?? Array(x[(first * shape.cols)..<((first + n) * shape.cols)])
        status = sa_i8_head_apply(head, xs, Int32(n), &y, pool, isa)
        guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        return y
    }

    /// The rotation the head applies, on a copy of `v` (rows of `cols`).
    func rotated(_ v: [Float]) -> [Float] {
        var block = 1
        while block < 64 && shape.cols % (2 * block) == 0 { block *= 2 }
        var signs = [Float](repeating: 0, count: shape.cols)
        sa_rht_signs(Self.seed, &signs, shape.cols)
        var out = v
        #expect(sa_rht(&out, v.count / shape.cols, shape.cols, block, signs) == SA_RHT_OK)
        return out
    }
}

@Suite struct HeadKernelTests {
    /// One token (16-row tiles), 2 and 3 tokens, groups of 4 with every remainder; rows and
    /// columns that are not multiples of the tiles or of 64, and widths of every rotation block.
    static let cases = [
        HeadCase(rows: 300, cols: 576, tokens: 1),
        HeadCase(rows: 517, cols: 37, tokens: 2),
        HeadCase(rows: 129, cols: 64, tokens: 3),
        HeadCase(rows: 40, cols: 100, tokens: 4),
        HeadCase(rows: 261, cols: 576, tokens: 7),
        HeadCase(rows: 33, cols: 8, tokens: 9),
        HeadCase(rows: 5, cols: 200, tokens: 16),
    ]

    /// Each logit is within the bound int8 rounding allows: with rotated rows w and tokens x whose
    /// steps are sw and sx, |y - w.x| <= (sx/2)|w|_1 + (sw/2)|x|_1 + cols sw sx / 4 (plus float
    /// slack); every instruction set gives the same bits.
    @Test(arguments: cases)
    func logitsAreWithinTheInt8BoundWithTheSameBitsOnEveryPath(shape: HeadCase) throws {
        let data = try HeadData(shape, seed: UInt64(shape.rows * 13 + shape.cols))
        let scalar = try data.run(isa: KernelISA.scalar.value)
        let wr = data.rotated(data.w.map { sa_half_to_float($0) }), xr = data.rotated(data.x)
        let n = shape.cols
        for t in 0..<shape.tokens {
            let x = xr[(t * n)..<((t + 1) * n)]
            let sx = Double(x.map(abs).max()!) / 127
            for r in 0..<shape.rows {
                let w = wr[(r * n)..<((r + 1) * n)]
                let sw = Double(w.map(abs).max()!) / 127
                var exact = 0.0, w1 = 0.0, x1 = 0.0
                for (a, b) in zip(w, x) {
                    exact += Double(a) * Double(b)
                    w1 += Double(abs(a))
                    x1 += Double(abs(b))
                }
                let bound = sx / 2 * w1 + sw / 2 * x1 + Double(n) * sw * sx / 4 + 1e-5 * w1 * x1 / Double(n)
                #expect(abs(Double(scalar[t * shape.rows + r]) - exact) <= bound, "token \(t) row \(r)")
            }
        }
        for isa in KernelISA.all where runsHere(isa) {
            #expect(bitPatterns(try data.run(isa: isa.value)) == bitPatterns(scalar), "\(isa.testDescription)")
        }
    }

    /// Against the fp32 product the int8 head is close in relative terms on the real width: the
    /// RMS error is about 1% of the RMS logit (random data; under 2% asserted).
    @Test func errorIsSmallRelativeToTheLogits() throws {
        let shape = HeadCase(rows: 2000, cols: 576, tokens: 4)
        let data = try HeadData(shape, seed: 11)
        let y = try data.run(isa: -1)
        var err = 0.0, sum = 0.0
        for t in 0..<shape.tokens {
            for r in 0..<shape.rows {
                var exact = 0.0
                for c in 0..<shape.cols { exact += Double(sa_half_to_float(data.w[r * shape.cols + c])) * Double(data.x[t * shape.cols + c]) }
                err += (Double(y[t * shape.rows + r]) - exact) * (Double(y[t * shape.rows + r]) - exact)
                sum += exact * exact
            }
        }
        #expect((err / sum).squareRoot() < 0.02, "relative RMS error \((err / sum).squareRoot())")
    }

    /// A token's logits are the same alone, in any batch, and on any number of threads.
    @Test(arguments: KernelISA.all)
    func tokensAreIndependentOfTheBatchAndTheThreads(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let shape = HeadCase(rows: 1000, cols: 96, tokens: 19)
        let data = try HeadData(shape, seed: 3)
        let batch = try data.run(isa: isa.value)
        #expect(bitPatterns(try data.run(isa: isa.value, threads: 2)) == bitPatterns(batch))
        #expect(bitPatterns(try data.run(isa: isa.value, threads: 3)) == bitPatterns(batch))
        for n in 1...9 {
            for first in [0, 19 - n] {
                let part = try data.run(isa: isa.value, first: first, tokens: n, threads: 2)
                #expect(bitPatterns(part) == bitPatterns(Array(batch[(first * 1000)..<((first + n) * 1000)])), "\(n) tokens from \(first)")
            }
        }
    }

    /// A token holding NaN or infinity gets NaN logits; the other tokens of the batch do not change.
    @Test(arguments: [Float.nan, .infinity])
    func aNonFiniteTokenGetsNaNLogitsAlone(value: Float) throws {
        let shape = HeadCase(rows: 50, cols: 64, tokens: 3)
        let data = try HeadData(shape, seed: 5)
        let clean = try data.run(isa: -1)
        var x = data.x
        x[64 + 10] = value
        let y = try data.run(isa: -1, x: x)
        #expect(y[50..<100].allSatisfy { $0.isNaN })
        #expect(bitPatterns(Array(y[0..<50])) == bitPatterns(Array(clean[0..<50])))
        #expect(bitPatterns(Array(y[100...])) == bitPatterns(Array(clean[100...])))
    }

    /// A row read back is the fp16 row to within half an int8 step per rotated value.
    @Test func rowsReadBackWithinHalfAStep() throws {
        let shape = HeadCase(rows: 20, cols: 576, tokens: 1)
        let data = try HeadData(shape, seed: 9)
        for r in 0..<shape.rows {
            var row = [Float](repeating: 0, count: shape.cols)
            #expect(sa_i8_head_row(data.head, Int32(r), &row) == SA_OK.rawValue)
            let original = data.w[(r * shape.cols)..<((r + 1) * shape.cols)].map { sa_half_to_float($0) }
            let step = Double(data.rotated(original).map(abs).max()!) / 127
            // The rotation is orthonormal: the error's length is that of the rotated error.
            let error = zip(row, original).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            #expect(error <= (Double(shape.cols) * step * step / 4).squareRoot() * 1.0001 + 1e-6, "row \(r)")
        }
        var row = [Float](repeating: 0, count: shape.cols)
        #expect(sa_i8_head_row(data.head, Int32(shape.rows), &row) == SA_ERR_ARGUMENT.rawValue)
    }

    @Test func badArgumentsAreRejected() throws {
        let data = try HeadData(HeadCase(rows: 4, cols: 16, tokens: 1), seed: 1)
        #expect(throws: KernelError(status: SA_ERR_ARGUMENT.rawValue)) { try data.run(isa: 3) }
        for isa in KernelISA.all where !isa.isAvailable {
            #expect(throws: KernelError(status: SA_ERR_ISA.rawValue)) { try data.run(isa: isa.value) }
        }
        var err: Int32 = 0
        #expect(sa_i8_head_create(10, 65537, 0, &err) == nil && err == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_i8_head_create(0, 16, 0, &err) == nil && err == SA_ERR_ARGUMENT.rawValue)
        let nan = [UInt16](repeating: 0x7E00, count: 16)
        #expect(sa_i8_head_quantize(data.head, nan, 0, 1) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_i8_head_quantize(data.head, nan, 3, 5) == SA_ERR_ARGUMENT.rawValue)
    }
}
