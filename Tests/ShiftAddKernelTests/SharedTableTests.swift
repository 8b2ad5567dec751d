import CShiftKernels
import Testing

/// The calls the engine makes per table: a threaded build (with the input rotation) and one
/// apply over all the layers that read the table.
@Suite struct SharedTableTests {
    static let cols = 320
    static let groupSize = 64

    /// y of every layer applied to a built table, one apply call per layer, on the caller.
    static func separately(_ layers: [OpaquePointer], rows: [Int], lut: OpaquePointer, tokens: Int) -> [[Float]] {
        zip(layers, rows).map { q, r in
            var y = [Float](repeating: .nan, count: tokens * r)
            #expect(sa_qlinear_apply(q, lut, &y, Int32(tokens), nil) == SA_OK.rawValue)
            return y
        }
    }

    static func makePool(_ threads: Int) -> OpaquePointer? {
        threads == 0 ? nil : sa_threadpool_create(Int32(threads), nil)
    }

    /// Splitting the build over threads, with or without the rotation folded in (on each
    /// instruction set's rotation path, for blocks of 4 to 64), gives the tables of a
    /// plain build of the activations rotated by sa_rht, and rotates x in place exactly like sa_rht.
    @Test(arguments: [0, 1, 2, 3], [1, 3, 8, 17])
    func threadedBuildEqualsThePlainOne(threads: Int, tokens: Int) throws {
        let layer = CanonicalLayer(rows: 48, cols: Self.cols, groupSize: Self.groupSize, bits: 3, withBeta: true, seed: 61)
        let q = try layer.make(isa: SA_ISA_BEST)
        defer { sa_qlinear_free(q) }
        var random = KernelRandom(seed: UInt64(tokens))
        let x = random.activations(tokens * Self.cols)
        var signs = [Float](repeating: 0, count: Self.cols)
        sa_rht_signs(7, &signs, Self.cols)
        let pool = Self.makePool(threads)
        defer { sa_threadpool_free(pool) }
        for isa in KernelISA.all where isa.isAvailable {
            for block in [0, 4, 8, 16, 32, 64] {
                var expected = x
                if block > 0 { #expect(sa_rht(&expected, tokens, Self.cols, block, signs) == 0) }
                let plain = sa_lut_create(Int32(tokens), Int32(Self.cols), Int32(Self.groupSize), isa.value, nil)!
                let threaded = sa_lut_create(Int32(tokens), Int32(Self.cols), Int32(Self.groupSize), isa.value, nil)!
                defer {
                    sa_lut_free(plain)
                    sa_lut_free(threaded)
                }
                #expect(sa_lut_build(plain, expected, Int32(tokens)) == SA_OK.rawValue)
                var input = x
                let status = block > 0 ? sa_lut_build_threaded(threaded, &input, Int32(tokens), signs, block, pool)
                    : sa_lut_build_threaded(threaded, &input, Int32(tokens), nil, 0, pool)
                let label = "\(isa.testDescription), rotation block \(block)"
                #expect(status == SA_OK.rawValue, "\(label)")
                #expect(bitPatterns(input) == bitPatterns(expected), "x rotated in place, \(label)")
                #expect(sa_lut_tokens(threaded) == Int32(tokens))
                for t in 0..<tokens {
                    for g in 0..<layer.groups {
                        #expect(sa_lut_scale(threaded, Int32(t), Int32(g)).bitPattern == sa_lut_scale(plain, Int32(t), Int32(g)).bitPattern)
                    }
                }
                #expect(Self.separately([q], rows: [48], lut: threaded, tokens: tokens).map(bitPatterns)
                        == Self.separately([q], rows: [48], lut: plain, tokens: tokens).map(bitPatterns), "\(label)")
            }
        }
    }

    @Test func threadedBuildRejectsBadArguments() {
        let lut = sa_lut_create(4, Int32(Self.cols), Int32(Self.groupSize), SA_ISA_BEST, nil)!
        defer { sa_lut_free(lut) }
        var x = [Float](repeating: 1, count: 5 * Self.cols)
        #expect(sa_lut_build_threaded(lut, &x, 5, nil, 0, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_lut_build_threaded(lut, &x, 0, nil, 0, nil) == SA_ERR_ARGUMENT.rawValue)
        let signs = [Float](repeating: 1, count: Self.cols)
        // A rotation block that does not divide the width.
        #expect(sa_lut_build_threaded(lut, &x, 2, signs, 96, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_lut_tokens(lut) == 0)
    }

    /// Layers of different heights applied in one call equal separate applies, on any number of
    /// threads, both when the total is large enough to split and when it is not.
    @Test(arguments: KernelISA.all, [0, 1, 2, 3])
    func oneApplyOverSeveralLayersEqualsSeparateOnes(isa: KernelISA, threads: Int) throws {
        guard runsHere(isa) else { return }
        let rows = [576, 192, 70, 16]
        let layers = try rows.enumerated().map { i, r in
            try CanonicalLayer(rows: r, cols: Self.cols, groupSize: Self.groupSize, bits: 2 + i % 3, withBeta: i != 2,
                               seed: UInt64(70 + i)).make(isa: isa.value)
        }
        defer { layers.forEach { sa_qlinear_free($0) } }
        let pool = Self.makePool(threads)
        defer { sa_threadpool_free(pool) }
        for tokens in [1, 5, 16] {
            var random = KernelRandom(seed: UInt64(tokens))
            let x = random.activations(tokens * Self.cols)
            let lut = sa_lut_create(Int32(tokens), Int32(Self.cols), Int32(Self.groupSize), isa.value, nil)!
            defer { sa_lut_free(lut) }
            #expect(sa_lut_build(lut, x, Int32(tokens)) == SA_OK.rawValue)
            let expected = Self.separately(layers, rows: rows, lut: lut, tokens: tokens)
            let outputs = rows.map { UnsafeMutablePointer<Float>.allocate(capacity: tokens * $0) }
            defer { outputs.forEach { $0.deallocate() } }
            let qs: [OpaquePointer?] = layers
            let ys: [UnsafeMutablePointer<Float>?] = outputs
            #expect(sa_qlinear_apply_many(qs, ys, Int32(layers.count), lut, Int32(tokens), pool) == SA_OK.rawValue)
            for (i, r) in rows.enumerated() {
                let got = Array(UnsafeBufferPointer(start: outputs[i], count: tokens * r))
                #expect(bitPatterns(got) == bitPatterns(expected[i]), "layer \(i), T=\(tokens)")
            }
        }
    }

    @Test func oneApplyRejectsBadArguments() throws {
        let fits = try CanonicalLayer(rows: 8, cols: Self.cols, groupSize: Self.groupSize, bits: 2, withBeta: false, seed: 1)
            .make(isa: SA_ISA_BEST)
        let narrow = try CanonicalLayer(rows: 8, cols: 64, groupSize: Self.groupSize, bits: 2, withBeta: false, seed: 2)
            .make(isa: SA_ISA_BEST)
        defer {
            sa_qlinear_free(fits)
            sa_qlinear_free(narrow)
        }
        let lut = sa_lut_create(2, Int32(Self.cols), Int32(Self.groupSize), SA_ISA_BEST, nil)!
        defer { sa_lut_free(lut) }
        #expect(sa_lut_build(lut, [Float](repeating: 0.5, count: 2 * Self.cols), 2) == SA_OK.rawValue)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        defer { y.deallocate() }
        let nine = [OpaquePointer?](repeating: fits, count: 9)
        let nineOut = [UnsafeMutablePointer<Float>?](repeating: y, count: 9)
        #expect(sa_qlinear_apply_many(nine, nineOut, 9, lut, 1, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_qlinear_apply_many(nine, nineOut, 0, lut, 1, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_qlinear_apply_many([fits, nil], [y, y], 2, lut, 1, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_qlinear_apply_many([fits, fits], [y, nil], 2, lut, 1, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_qlinear_apply_many([fits, narrow], [y, y], 2, lut, 1, nil) == SA_ERR_MISMATCH.rawValue)
        #expect(sa_qlinear_apply_many([fits], [y], 1, lut, 3, nil) == SA_ERR_MISMATCH.rawValue)
        #expect(sa_qlinear_apply_many([fits, fits], [y, y], 2, lut, 2, nil) == SA_OK.rawValue)
    }
}
