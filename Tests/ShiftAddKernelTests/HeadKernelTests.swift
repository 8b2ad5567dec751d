import CShiftKernels
import Testing

/// An fp16 weight matrix and fp32 activations for the output head.
struct HeadCase: CustomTestStringConvertible, Sendable {
    let rows: Int
    let cols: Int
    let tokens: Int
    var testDescription: String { "\(rows)x\(cols) T\(tokens)" }
}

struct HeadData {
    let shape: HeadCase
    let w: [UInt16]
    let x: [Float]

    init(_ shape: HeadCase, seed: UInt64) {
        self.shape = shape
        var random = KernelRandom(seed: seed)
        w = (0..<shape.rows * shape.cols).map { _ in sa_float_to_half(random.unit() * 0.5) }
        x = random.activations(shape.tokens * shape.cols)
    }

    /// y [tokens][rows] for the first `tokens` rows of x (from token `first`), or throws the status.
    func run(isa: Int32, first: Int = 0, tokens: Int? = nil, threads: Int = 0) throws(KernelError) -> [Float] {
        let n = tokens ?? shape.tokens
        var y = [Float](repeating: .nan, count: n * shape.rows)
        var status: Int32 = 0
        var pool: OpaquePointer?
        if threads > 0 {
            guard let p = sa_threadpool_create(Int32(threads), &status) else { throw KernelError(status: status) }
            pool = p
        }
        defer { sa_threadpool_free(pool) }
        let xs = Array(x[(first * shape.cols)..<((first + n) * shape.cols)])
        status = sa_f16_matmul(w, Int32(shape.rows), Int32(shape.cols), xs, Int32(n), &y, pool, isa)
        guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        return y
    }
}

@Suite struct HeadKernelTests {
    /// Token counts cover the one-token path, the direct paths up to 4 tokens and the buffered
    /// tiles with every remainder; rows and columns are not multiples of the tile sizes.
    static let cases = [
        HeadCase(rows: 300, cols: 576, tokens: 1),
        HeadCase(rows: 517, cols: 37, tokens: 2),
        HeadCase(rows: 129, cols: 64, tokens: 3),
        HeadCase(rows: 40, cols: 100, tokens: 4),
        HeadCase(rows: 261, cols: 576, tokens: 7),
        HeadCase(rows: 33, cols: 8, tokens: 9),
        HeadCase(rows: 5, cols: 200, tokens: 16),
    ]

    /// Within the rounding bound of a 16-lane fused chain ((cols / 16 + 4) roundings relative to
    /// the sum of |w x|), and the same bits on every path.
    @Test(arguments: cases)
    func everyPathIsExactToRoundingWithTheSameBits(shape: HeadCase) throws {
        let data = HeadData(shape, seed: UInt64(shape.rows * 13 + shape.cols))
        let scalar = try data.run(isa: KernelISA.scalar.value)
        let u = Double(Float.ulpOfOne) / 2
        for t in 0..<shape.tokens {
            for r in 0..<shape.rows {
                var exact = 0.0, magnitude = 0.0
                for c in 0..<shape.cols {
                    let p = Double(sa_half_to_float(data.w[r * shape.cols + c])) * Double(data.x[t * shape.cols + c])
                    exact += p
                    magnitude += abs(p)
                }
                let bound = Double(shape.cols / 16 + 6) * u * magnitude
                #expect(abs(Double(scalar[t * shape.rows + r]) - exact) <= bound, "token \(t) row \(r)")
            }
        }
        for isa in KernelISA.all where runsHere(isa) {
            #expect(bitPatterns(try data.run(isa: isa.value)) == bitPatterns(scalar), "\(isa.testDescription)")
        }
    }

    /// A token's logits are the same alone, in any batch, and on any number of threads.
    @Test(arguments: KernelISA.all)
    func tokensAreIndependentOfTheBatchAndTheThreads(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let shape = HeadCase(rows: 1000, cols: 96, tokens: 19)
        let data = HeadData(shape, seed: 3)
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

    @Test func badArgumentsAreRejected() throws {
        let data = HeadData(HeadCase(rows: 4, cols: 16, tokens: 1), seed: 1)
        #expect(throws: KernelError(status: SA_ERR_ARGUMENT.rawValue)) { try data.run(isa: 3) }
        for isa in KernelISA.all where !isa.isAvailable {
            #expect(throws: KernelError(status: SA_ERR_ISA.rawValue)) { try data.run(isa: isa.value) }
        }
    }
}
