import CShiftKernels
import Testing

@Suite struct QLinearInvarianceTests {
    static let layers = [
        LayerShape(rows: 70, cols: 576, groupSize: 128, bits: 3, tokens: 11, withBeta: true),
        LayerShape(rows: 33, cols: 100, groupSize: 32, bits: 4, tokens: 6, withBeta: false),
        LayerShape(rows: 96, cols: 1536, groupSize: 64, bits: 2, tokens: 3, withBeta: true),
        LayerShape(rows: 5, cols: 72, groupSize: 24, bits: 1, tokens: 17, withBeta: true),
    ]

    static func layer(_ s: LayerShape) -> CanonicalLayer {
        CanonicalLayer(rows: s.rows, cols: s.cols, groupSize: s.groupSize, bits: s.bits,
                       withBeta: s.withBeta, seed: UInt64(s.rows * 7 + s.cols))
    }

    /// Every instruction set, and tables built by any of them, give the same bits.
    @Test(arguments: layers)
    func everyInstructionSetGivesIdenticalBits(shape: LayerShape) throws {
        let layer = Self.layer(shape)
        var random = KernelRandom(seed: 21)
        let x = random.activations(shape.tokens * shape.cols)
        let available = KernelISA.all.filter(\.isAvailable)
        #expect(available.count == Int(KernelISA.best) + 1)
        let reference = try runProduct(layer, isa: KernelISA.scalar.value, x: x, tokens: shape.tokens)
        for isa in available {
            for lutISA in available {
                let product = try runProduct(layer, isa: isa.value, lutISA: lutISA.value, x: x, tokens: shape.tokens)
                #expect(bitPatterns(product.y) == bitPatterns(reference.y),
                        "layer \(isa.testDescription), tables \(lutISA.testDescription)")
                #expect(bitPatterns(product.steps) == bitPatterns(reference.steps))
            }
        }
    }

    /// Token t's output is the same whether it is computed alone or in a batch of any size.
    @Test(arguments: KernelISA.all)
    func batchRowsEqualRowsComputedAlone(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let layer = CanonicalLayer(rows: 50, cols: 200, groupSize: 64, bits: 3, withBeta: true, seed: 31)
        var random = KernelRandom(seed: 32)
        let x = random.activations(64 * 200)
        var alone: [[UInt32]] = []
        for t in 0..<64 {
            let single = Array(x[t * 200..<(t + 1) * 200])
            alone.append(bitPatterns(try runProduct(layer, isa: isa.value, x: single, tokens: 1).y))
        }
        for tokens in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 23, 64] {
            let batch = try runProduct(layer, isa: isa.value, x: Array(x[0..<tokens * 200]), tokens: tokens)
            for t in 0..<tokens {
                #expect(bitPatterns(Array(batch.y[t * 50..<(t + 1) * 50])) == alone[t], "T=\(tokens) token \(t)")
            }
        }
    }

    /// Applying only the first T tokens of a larger build equals a build of those T tokens.
    @Test func applyingFewerTokensThanBuiltUsesTheFirstOnes() throws {
        let layer = CanonicalLayer(rows: 20, cols: 64, groupSize: 32, bits: 2, withBeta: false, seed: 33)
        var random = KernelRandom(seed: 34)
        let x = random.activations(5 * 64)
        let q = try layer.make(isa: SA_ISA_BEST)
        defer { sa_qlinear_free(q) }
        let lut = sa_lut_create(5, 64, 32, SA_ISA_BEST, nil)
        defer { sa_lut_free(lut) }
        #expect(sa_lut_tokens(lut) == 0)
        #expect(sa_lut_build(lut, x, 5) == SA_OK.rawValue)
        #expect(sa_lut_tokens(lut) == 5)
        var y = [Float](repeating: 0, count: 2 * 20)
        #expect(sa_qlinear_apply(q, lut, &y, 2, nil) == SA_OK.rawValue)
        let direct = try runProduct(layer, isa: SA_ISA_BEST, x: Array(x[0..<128]), tokens: 2)
        #expect(bitPatterns(y) == bitPatterns(direct.y))
    }

    /// Splitting rows over 1, 2 or 3 threads gives the same bits as the caller alone. The layer
    /// is large enough to be split (rows x cols x bits >= 2^21) and ends in a partial row block.
    @Test(arguments: KernelISA.all)
    func threadCountDoesNotChangeResults(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let layer = CanonicalLayer(rows: 1100, cols: 640, groupSize: 64, bits: 3, withBeta: true, seed: 41)
        #expect(layer.rows * layer.cols * layer.bits >= 1 << 21)
        var random = KernelRandom(seed: 42)
        for tokens in [1, 6] {
            let x = random.activations(tokens * 640)
            let single = try runProduct(layer, isa: isa.value, x: x, tokens: tokens)
            for threads in 1...3 {
                for _ in 0..<3 {
                    let product = try runProduct(layer, isa: isa.value, x: x, tokens: tokens, threads: threads)
                    #expect(bitPatterns(product.y) == bitPatterns(single.y), "\(threads) threads, T=\(tokens)")
                }
            }
        }
    }
}
