import CShiftKernels
import Foundation
import Testing

/// An attention problem over a paged cache: T query tokens, each with its own scattered block
/// table and number of positions, of which it sees the last `window` (0: all).
struct AttentionCase: CustomTestStringConvertible, Sendable {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let blockSize: Int
    let positions: [Int]
    var window = 0
    var testDescription: String {
        "\(heads)/\(kvHeads) heads of \(headDim), blocks of \(blockSize), positions \(positions)"
            + (window > 0 ? ", window \(window)" : "")
    }

    var tokens: Int { positions.count }
    var kvDim: Int { kvHeads * headDim }
    var blocksPerToken: Int { (positions.max()! + blockSize - 1) / blockSize }
    var poolBlocks: Int { tokens * blocksPerToken + 3 }

    /// The first position token t sees.
    func first(token t: Int) -> Int { window > 0 ? max(0, positions[t] - window) : 0 }
}

/// Inputs of one attention case: random queries, keys and values, and block tables that spread
/// every token's positions over the pool out of order. Keys and values are fp16 values (stored by
/// sa_kv_store_half), held both as fp16 and as the equal fp32 numbers, so the two pool types of
/// the kernels can be compared with each other. A last pool block holds NaN keys and values, and
/// the table entries of blocks wholly before a token's window point at it: a kernel reading them
/// would give NaN.
struct AttentionData {
    let shape: AttentionCase
    let q: [Float]
    let keys: [Float]
    let values: [Float]
    let halfKeys: [UInt16]
    let halfValues: [UInt16]
    let tables: [[Int32]]

    init(_ shape: AttentionCase, seed: UInt64, queryScale: Float = 2) {
        self.shape = shape
        var random = KernelRandom(seed: seed)
        q = (0..<shape.tokens * shape.heads * shape.headDim).map { _ in random.unit() * queryScale }
        let poolFloats = shape.poolBlocks * shape.blockSize * shape.kvDim
        let k = (0..<poolFloats).map { _ in random.unit() * 3 }
        let v = (0..<poolFloats).map { _ in random.unit() }
        var hk = [UInt16](repeating: 0, count: poolFloats), hv = hk
        sa_kv_store_half(&hk, k, poolFloats)
        sa_kv_store_half(&hv, v, poolFloats)
        let poison = [UInt16](repeating: 0x7E00, count: shape.blockSize * shape.kvDim)
        halfKeys = hk + poison
        halfValues = hv + poison
        keys = halfKeys.map { sa_half_to_float($0) }
        values = halfValues.map { sa_half_to_float($0) }
        let perToken = shape.blocksPerToken
        tables = (0..<shape.tokens).map { t in
            (0..<perToken).map { b in
                b < shape.first(token: t) / shape.blockSize ? Int32(shape.poolBlocks)
                    : Int32((b * shape.tokens + t * 7 + 1) % shape.poolBlocks)
            }
        }
    }

    var scale: Float { 1 / Float(shape.headDim).squareRoot() }

    /// Pool offset (floats) of token t's position p, kv head g.
    func offset(token t: Int, position p: Int, kvHead g: Int) -> Int {
        (Int(tables[t][p / shape.blockSize]) * shape.blockSize + p % shape.blockSize) * shape.kvDim + g * shape.headDim
    }

    /// Runs the batched kernel on tokens `range` (their tables and positions) over the fp16 pools
    /// (or the fp32 ones), or throws its status.
    func run(isa: Int32, tokens range: Range<Int>? = nil, threads: Int = 0, half: Bool = true) throws(KernelError) -> [Float] {
        let range = range ?? 0..<shape.tokens
        let width = shape.heads * shape.headDim
        var out = [Float](repeating: .nan, count: range.count * width)
        var pool: OpaquePointer?
        var status: Int32 = 0
        if threads > 0 {
            guard let p = sa_threadpool_create(Int32(threads), &status) else { throw KernelError(status: status) }
            pool = p
        }
        defer { sa_threadpool_free(pool) }
        let storage = range.map { t in
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: tables[t].count)
            p.update(from: tables[t], count: tables[t].count)
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        let pointers: [UnsafePointer<Int32>?] = storage.map { UnsafePointer($0) }
        let counts = range.map { Int32(shape.positions[$0]) }
        let queries = Array(q[(range.lowerBound * width)..<(range.upperBound * width)])
        let call = { (k: UnsafeRawPointer, v: UnsafeRawPointer, type: sa_kv_type) in
            sa_attention_paged_batch(queries, &out, Int32(range.count), Int32(shape.heads), Int32(shape.kvHeads),
                                     Int32(shape.headDim), k, v, Int32(type.rawValue), pointers, counts, Int32(shape.window),
                                     Int32(shape.blockSize), scale, pool, isa)
        }
        status = half ? call(halfKeys, halfValues, SA_KV_F16) : call(keys, values, SA_KV_F32)
        guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        return out
    }

    /// Softmax attention over each token's window in Double, [tokens][heads][headDim].
    func reference() -> [Double] {
        let d = shape.headDim, group = shape.heads / shape.kvHeads
        var out: [Double] = []
        for t in 0..<shape.tokens {
            for h in 0..<shape.heads {
                let qh = (t * shape.heads + h) * d
                let visible = shape.first(token: t)..<shape.positions[t]
                let scores = visible.map { p in
                    let k = offset(token: t, position: p, kvHead: h / group)
                    return (0..<d).reduce(0.0) { $0 + Double(q[qh + $1]) * Double(keys[k + $1]) } * Double(scale)
                }
                let m = scores.max()!
                let e = scores.map { Foundation.exp($0 - m) }
                let total = e.reduce(0, +)
                for i in 0..<d {
                    out.append((0..<scores.count).reduce(0.0) { sum, p in
                        sum + e[p] / total * Double(values[offset(token: t, position: visible.lowerBound + p, kvHead: h / group) + i])
                    })
                }
            }
        }
        return out
    }

    /// Error allowed for token t, head h: the scores' rounding (16-lane chains of fused
    /// multiply-adds, at most headDim / 16 + 4 roundings relative to the sum of |q_i k_i|) moves
    /// each softmax weight by about twice the score error, relatively, and the exponential, the
    /// weight normalization and the output's own fused chain add a few units in the last place
    /// times the largest |value|.
    func bound(token t: Int, head h: Int) -> Double {
        let d = shape.headDim, group = shape.heads / shape.kvHeads
        let u = Double(Float.ulpOfOne) / 2
        let qh = (t * shape.heads + h) * d
        var scoreError = 0.0
        var largestValue = 0.0
        for p in shape.first(token: t)..<shape.positions[t] {
            let k = offset(token: t, position: p, kvHead: h / group)
            let magnitude = (0..<d).reduce(0.0) { $0 + abs(Double(q[qh + $1]) * Double(keys[k + $1])) } * Double(scale)
            scoreError = max(scoreError, Double(d / 16 + 6) * u * magnitude)
            for i in 0..<d { largestValue = max(largestValue, abs(Double(values[k + i]))) }
        }
        return largestValue * (4 * scoreError + Double(shape.positions[t] - shape.first(token: t) + 16) * u) * 2
    }
}

@Suite struct AttentionKernelTests {
    static let cases = [
        AttentionCase(heads: 9, kvHeads: 3, headDim: 64, blockSize: 16, positions: [1, 17, 130, 64]),
        AttentionCase(heads: 4, kvHeads: 2, headDim: 40, blockSize: 3, positions: [37, 5, 16]),
        AttentionCase(heads: 8, kvHeads: 1, headDim: 128, blockSize: 4, positions: [300, 2]),
        AttentionCase(heads: 6, kvHeads: 6, headDim: 8, blockSize: 1, positions: [9, 33, 1, 15, 16]),
        AttentionCase(heads: 10, kvHeads: 2, headDim: 100, blockSize: 7, positions: [50, 49]),
    ]

    /// Each path stays within the rounding bound of the exact softmax attention (of the cached
    /// fp16 values), and all paths and both pool types give the same bits.
    @Test(arguments: cases)
    func everyPathMatchesTheExactAttentionWithTheSameBits(shape: AttentionCase) throws {
        let data = AttentionData(shape, seed: UInt64(shape.headDim * 31 + shape.heads))
        let scalar = try Self.scalarWithinBound(data, shape)
        for isa in KernelISA.all where runsHere(isa) {
            #expect(bitPatterns(try data.run(isa: isa.value)) == bitPatterns(scalar), "\(isa.testDescription)")
            #expect(bitPatterns(try data.run(isa: isa.value, half: false)) == bitPatterns(scalar), "\(isa.testDescription), fp32 pool")
        }
    }

    /// A sliding window: each token attends to the last `window` of its positions only (all of them
    /// when it has fewer), within the bound of the exact attention over those, never reading the
    /// blocks before them (they hold NaN), with the same bits on every path, pool type and thread
    /// count.
    @Test(arguments: [
        AttentionCase(heads: 9, kvHeads: 3, headDim: 64, blockSize: 16, positions: [1, 17, 130, 64, 200], window: 40),
        AttentionCase(heads: 4, kvHeads: 1, headDim: 40, blockSize: 3, positions: [37, 5, 16, 3], window: 5),
        AttentionCase(heads: 6, kvHeads: 2, headDim: 32, blockSize: 4, positions: [9, 33, 1], window: 1),
        AttentionCase(heads: 8, kvHeads: 4, headDim: 16, blockSize: 8, positions: (0..<24).map { 20 + 9 * $0 }, window: 64),
    ])
    func slidingWindowSeesOnlyItsLastPositions(shape: AttentionCase) throws {
        let data = AttentionData(shape, seed: UInt64(shape.headDim * 17 + shape.window))
        let scalar = try Self.scalarWithinBound(data, shape)
        for isa in KernelISA.all where runsHere(isa) {
            for threads in [0, 2, 3] {
                #expect(bitPatterns(try data.run(isa: isa.value, threads: threads)) == bitPatterns(scalar),
                        "\(isa.testDescription), \(threads) threads")
            }
            #expect(bitPatterns(try data.run(isa: isa.value, half: false)) == bitPatterns(scalar), "\(isa.testDescription), fp32 pool")
        }
    }

    /// The scalar path's output, checked within the rounding bound of the exact attention.
    static func scalarWithinBound(_ data: AttentionData, _ shape: AttentionCase) throws -> [Float] {
        let exact = data.reference()
        let scalar = try data.run(isa: KernelISA.scalar.value)
        let d = shape.headDim
        for t in 0..<shape.tokens {
            for h in 0..<shape.heads {
                let bound = data.bound(token: t, head: h)
                let base = (t * shape.heads + h) * d
                let worst = (0..<d).map { abs(Double(scalar[base + $0]) - exact[base + $0]) }.max()!
                #expect(worst <= bound, "token \(t) head \(h): error \(worst), bound \(bound)")
            }
        }
        return scalar
    }

    /// Values beyond the fp16 range saturate at ±65504 instead of becoming infinite; the rest round
    /// to nearest even.
    @Test func cacheStoresSaturateAndRoundToNearest() {
        let values: [Float] = [1e6, -1e6, 65504, 65519, 65520, 1, 1 + 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 0x1p-24, 0x1p-26, -0.0]
        var stored = [UInt16](repeating: 0, count: 17 * values.count)
        let source = Array((0..<17).map { _ in values }.joined())
        sa_kv_store_half(&stored, source, source.count)
        let expected: [Float] = [65504, -65504, 65504, 65504, 65504, 1, 1, 1 + 0x1p-10, 0x1p-24, 0, -0.0]
        #expect(stored.map { sa_half_to_float($0).bitPattern } == Array((0..<17).map { _ in expected }.joined()).map(\.bitPattern))
    }

    /// Very unequal scores: weights below e^-80 of the largest are dropped as zero, which stays
    /// far inside the bound; every path agrees.
    @Test func sharpSoftmaxStaysAccurate() throws {
        let shape = AttentionCase(heads: 2, kvHeads: 1, headDim: 32, blockSize: 8, positions: [70, 3])
        let data = AttentionData(shape, seed: 5, queryScale: 60)
        let exact = data.reference()
        let scalar = try data.run(isa: KernelISA.scalar.value)
        for t in 0..<shape.tokens {
            for h in 0..<shape.heads {
                let base = (t * shape.heads + h) * shape.headDim
                let worst = (0..<shape.headDim).map { abs(Double(scalar[base + $0]) - exact[base + $0]) }.max()!
                #expect(worst <= data.bound(token: t, head: h), "token \(t) head \(h): error \(worst)")
            }
        }
        for isa in KernelISA.all where runsHere(isa) {
            #expect(bitPatterns(try data.run(isa: isa.value)) == bitPatterns(scalar), "\(isa.testDescription)")
        }
    }

    /// A token's output does not depend on the other tokens of the batch, on the thread count (which
    /// changes how a kv head's query heads are split into tasks), or on the single-token entry point.
    @Test(arguments: KernelISA.all)
    func tokensAreIndependentOfTheBatchAndTheThreads(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let shape = AttentionCase(heads: 9, kvHeads: 3, headDim: 64, blockSize: 4, positions: [3, 40, 1, 77, 12, 9])
        let data = AttentionData(shape, seed: 11)
        let width = shape.heads * shape.headDim
        let batch = try data.run(isa: isa.value)
        for threads in [1, 2, 3] {
            #expect(bitPatterns(try data.run(isa: isa.value, threads: threads)) == bitPatterns(batch), "\(threads) threads")
        }
        #expect(bitPatterns(try data.run(isa: isa.value, threads: 2, half: false)) == bitPatterns(batch), "fp32 pool")
        for t in 0..<shape.tokens {
            let alone = try data.run(isa: isa.value, tokens: t..<(t + 1), threads: 2)
            #expect(bitPatterns(alone) == bitPatterns(Array(batch[(t * width)..<((t + 1) * width)])), "token \(t)")
        }
        let pair = try data.run(isa: isa.value, tokens: 2..<4)
        #expect(bitPatterns(pair) == bitPatterns(Array(batch[(2 * width)..<(4 * width)])))
    }

    /// A batch large enough for one task per token (every kv head of a cached row read at once, with
    /// prefetching) gives each token the bits it gets alone (a task per kv head or per part of its
    /// query heads) and the bits of the scalar definition, for any thread count.
    @Test(arguments: KernelISA.all)
    func wholeTokenTasksGiveTheBitsOfSmallerTasks(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let shape = AttentionCase(heads: 9, kvHeads: 3, headDim: 64, blockSize: 16, positions: (0..<20).map { 100 + 13 * $0 })
        let data = AttentionData(shape, seed: 21)
        let width = shape.heads * shape.headDim
        let batch = try data.run(isa: isa.value, threads: 2)
        #expect(bitPatterns(batch) == bitPatterns(try data.run(isa: KernelISA.scalar.value)), "scalar")
        #expect(bitPatterns(try data.run(isa: isa.value, threads: 3)) == bitPatterns(batch), "3 threads")
        #expect(bitPatterns(try data.run(isa: isa.value, threads: 2, half: false)) == bitPatterns(batch), "fp32 pool")
        for t in [0, 7, 19] {
            let alone = try data.run(isa: isa.value, tokens: t..<(t + 1), threads: 2)
            #expect(bitPatterns(alone) == bitPatterns(Array(batch[(t * width)..<((t + 1) * width)])), "token \(t)")
        }
    }

    /// The single-token entry point (the fp32 reference engine's) runs the best path's arithmetic.
    @Test func singleTokenEntryPointEqualsTheBatchedOne() throws {
        let shape = AttentionCase(heads: 4, kvHeads: 2, headDim: 48, blockSize: 5, positions: [23, 61])
        let data = AttentionData(shape, seed: 12)
        let width = shape.heads * shape.headDim
        let batch = try data.run(isa: SA_ISA_BEST)
        for t in 0..<shape.tokens {
            var out = [Float](repeating: .nan, count: width)
            var scores = [Float](repeating: 0, count: shape.positions[t])
            let query = Array(data.q[(t * width)..<((t + 1) * width)])
            let status = sa_attention_paged(query, &out, Int32(shape.heads), Int32(shape.kvHeads), Int32(shape.headDim),
                                            data.keys, data.values, data.tables[t], Int32(shape.blockSize),
                                            Int32(shape.positions[t]), data.scale, &scores)
            #expect(status == SA_OK.rawValue)
            #expect(bitPatterns(out) == bitPatterns(Array(batch[(t * width)..<((t + 1) * width)])), "token \(t)")
        }
    }

    @Test func badArgumentsAreRejected() throws {
        let shape = AttentionCase(heads: 4, kvHeads: 2, headDim: 16, blockSize: 4, positions: [5])
        let data = AttentionData(shape, seed: 13)
        #expect(throws: KernelError(status: SA_ERR_ARGUMENT.rawValue)) { try data.run(isa: 7) }
        let uneven = AttentionCase(heads: 5, kvHeads: 2, headDim: 16, blockSize: 4, positions: [5])
        #expect(throws: KernelError(status: SA_ERR_ARGUMENT.rawValue)) { try AttentionData(uneven, seed: 1).run(isa: SA_ISA_BEST) }
        var out = [Float](repeating: 0, count: 64)
        let table: [Int32] = [0, 1]
        let none: [Int32] = [0]
        let status = table.withUnsafeBufferPointer { t in
            let pointers: [UnsafePointer<Int32>?] = [t.baseAddress]
            return sa_attention_paged_batch(data.q, &out, 1, 4, 2, 16, data.halfKeys, data.halfValues, Int32(SA_KV_F16.rawValue),
                                            pointers, none, 0, 4, 1, nil, SA_ISA_BEST)
        }
        #expect(status == SA_ERR_ARGUMENT.rawValue, "no visible position")
        let badType = table.withUnsafeBufferPointer { t in
            let pointers: [UnsafePointer<Int32>?] = [t.baseAddress]
            let counts: [Int32] = [5]
            return sa_attention_paged_batch(data.q, &out, 1, 4, 2, 16, data.halfKeys, data.halfValues, 2, pointers, counts, 0, 4, 1, nil,
                                            SA_ISA_BEST)
        }
        #expect(badType == SA_ERR_ARGUMENT.rawValue, "unknown pool type")
        let negativeWindow = table.withUnsafeBufferPointer { t in
            let pointers: [UnsafePointer<Int32>?] = [t.baseAddress]
            let counts: [Int32] = [5]
            return sa_attention_paged_batch(data.q, &out, 1, 4, 2, 16, data.halfKeys, data.halfValues, Int32(SA_KV_F16.rawValue),
                                            pointers, counts, -1, 4, 1, nil, SA_ISA_BEST)
        }
        #expect(negativeWindow == SA_ERR_ARGUMENT.rawValue, "negative window")
        for isa in KernelISA.all where !isa.isAvailable {
            #expect(throws: KernelError(status: SA_ERR_ISA.rawValue)) { try data.run(isa: isa.value) }
        }
    }
}
