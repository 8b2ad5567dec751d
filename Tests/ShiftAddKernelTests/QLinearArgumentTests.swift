import CShiftKernels
import Testing

@Suite struct QLinearArgumentTests {
    let argument = SA_ERR_ARGUMENT.rawValue
    let mismatch = SA_ERR_MISMATCH.rawValue

    private func status(of layer: CanonicalLayer, isa: Int32 = SA_ISA_BEST) -> Int32 {
        do {
            sa_qlinear_free(try layer.make(isa: isa))
            return SA_OK.rawValue
        } catch {
            return error.status
        }
    }

    private func layer(rows: Int = 8, cols: Int = 64, groupSize: Int = 32, bits: Int = 2) -> CanonicalLayer {
        CanonicalLayer(rows: max(rows, 1), cols: max(cols, 1), groupSize: max(groupSize, 8),
                       bits: max(bits, 1), withBeta: true, seed: 3)
    }

    @Test func descriptorsOutsideTheirRangesAreRejected() {
        let good = layer()
        #expect(status(of: good) == SA_OK.rawValue)
        for (rows, cols, groupSize, bits) in [(0, 64, 32, 2), (8, 0, 32, 2), (8, 64, 0, 2), (8, 64, 12, 2),
                                             (8, 64, 1032, 2), (8, 64, 4, 2), (8, 64, 32, 0), (8, 64, 32, 9),
                                             (-1, 64, 32, 2), (1 << 20 + 1, 64, 32, 2)] {
            var desc = sa_qlinear_desc(rows: Int32(rows), cols: Int32(cols), group_size: Int32(groupSize),
                                       bits: Int32(bits), planes: nil, alpha: nil, beta: nil)
            var err: Int32 = 0
            let planes = [UInt64](repeating: 0, count: 1)
            let alpha = [Float](repeating: 0, count: 1)
            planes.withUnsafeBufferPointer { p in
                alpha.withUnsafeBufferPointer { a in
                    desc.planes = p.baseAddress
                    desc.alpha = a.baseAddress
                    #expect(sa_qlinear_create(&desc, SA_ISA_BEST, &err) == nil)
                }
            }
            #expect(err == argument, "rows \(rows) cols \(cols) G \(groupSize) bits \(bits)")
        }
    }

    @Test func missingArraysAndNonFiniteScalesAreRejected() {
        var err: Int32 = 0
        #expect(sa_qlinear_create(nil, SA_ISA_BEST, &err) == nil)
        #expect(err == argument)
        var desc = sa_qlinear_desc(rows: 8, cols: 64, group_size: 32, bits: 2, planes: nil, alpha: nil, beta: nil)
        #expect(sa_qlinear_create(&desc, SA_ISA_BEST, &err) == nil)
        #expect(err == argument)

        for bad in [Float.nan, .infinity, -.infinity] {
            var withBadAlpha = layer()
            withBadAlpha.alpha[5] = bad
            #expect(status(of: withBadAlpha) == argument)
            var withBadBeta = layer()
            withBadBeta.beta![3] = bad
            #expect(status(of: withBadBeta) == argument)
        }
    }

    @Test func unknownInstructionSetsAreRejected() {
        #expect(status(of: layer(), isa: 3) == argument)
        #expect(status(of: layer(), isa: -2) == argument)
        var err: Int32 = 0
        #expect(sa_lut_create(1, 64, 32, 7, &err) == nil)
        #expect(err == argument)
    }

    @Test func tableArgumentsAreChecked() {
        var err: Int32 = 0
        for (tokens, cols, groupSize) in [(0, 64, 32), (65537, 64, 32), (1, 0, 32), (1, 64, 20), (1, 64, 2048)] {
            #expect(sa_lut_create(Int32(tokens), Int32(cols), Int32(groupSize), SA_ISA_BEST, &err) == nil)
            #expect(err == argument)
        }
        let lut = sa_lut_create(2, 64, 32, SA_ISA_BEST, &err)
        defer { sa_lut_free(lut) }
        #expect(err == SA_OK.rawValue)
        let x = [Float](repeating: 1, count: 3 * 64)
        #expect(sa_lut_build(lut, x, 0) == argument)
        #expect(sa_lut_build(lut, x, 3) == argument)
        #expect(sa_lut_build(lut, nil, 1) == argument)
        #expect(sa_lut_build(nil, x, 1) == argument)
        #expect(sa_lut_scale(lut, 0, 0) == 0)
        #expect(sa_lut_build(lut, x, 1) == SA_OK.rawValue)
        #expect(sa_lut_scale(lut, 0, 0) == Float(4) / 127)
        #expect(sa_lut_scale(lut, 1, 0) == 0)
        #expect(sa_lut_scale(lut, 0, 2) == 0)
        #expect(sa_lut_bytes(lut) >= 2 * 64 / 4 * 16)
    }

    @Test func applyRejectsMismatchedTablesAndBadCounts() throws {
        let q = try layer(rows: 8, cols: 64, groupSize: 32).make(isa: SA_ISA_BEST)
        defer { sa_qlinear_free(q) }
        let x = [Float](repeating: 0.5, count: 2 * 96)
        var y = [Float](repeating: 0, count: 2 * 8)

        let built = sa_lut_create(2, 64, 32, SA_ISA_BEST, nil)
        defer { sa_lut_free(built) }
        #expect(sa_qlinear_apply(q, built, &y, 1, nil) == mismatch) // nothing built yet
        #expect(sa_lut_build(built, x, 1) == SA_OK.rawValue)
        #expect(sa_qlinear_apply(q, built, &y, 2, nil) == mismatch) // more tokens than built
        #expect(sa_qlinear_apply(q, built, &y, 0, nil) == argument)
        #expect(sa_qlinear_apply(q, built, nil, 1, nil) == argument)
        #expect(sa_qlinear_apply(nil, built, &y, 1, nil) == argument)
        #expect(sa_qlinear_apply(q, nil, &y, 1, nil) == argument)
        #expect(sa_qlinear_apply(q, built, &y, 1, nil) == SA_OK.rawValue)

        let otherCols = sa_lut_create(2, 96, 32, SA_ISA_BEST, nil)
        defer { sa_lut_free(otherCols) }
        #expect(sa_qlinear_forward(q, otherCols, x, &y, 1, nil) == mismatch)
        let otherGroup = sa_lut_create(2, 64, 16, SA_ISA_BEST, nil)
        defer { sa_lut_free(otherGroup) }
        #expect(sa_qlinear_forward(q, otherGroup, x, &y, 1, nil) == mismatch)
        #expect(sa_qlinear_forward(q, built, x, &y, 3, nil) == argument)
        #expect(sa_qlinear_forward(q, built, nil, &y, 1, nil) == argument)
    }

    @Test func accessorsDescribeTheLayer() throws {
        let q = try layer(rows: 40, cols: 100, groupSize: 24, bits: 3).make(isa: SA_ISA_BEST)
        defer { sa_qlinear_free(q) }
        #expect(sa_qlinear_rows(q) == 40)
        #expect(sa_qlinear_cols(q) == 100)
        #expect(sa_qlinear_group_size(q) == 24)
        #expect(sa_qlinear_bits(q) == 3)
        #expect(sa_qlinear_isa(q) == KernelISA.best)
        // At least the packed bits, one alpha per (row, group, plane) and one beta per (row, group).
        #expect(sa_qlinear_bytes(q) >= 40 * 100 * 3 / 8 + 40 * 5 * 3 * 4 + 40 * 5 * 4)
        #expect(sa_qlinear_rows(nil) == 0)
        #expect(sa_qlinear_bytes(nil) == 0)
        sa_qlinear_free(nil)
        sa_lut_free(nil)
    }
}
