import CShiftKernels
import Foundation
import ShiftAddBundle
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// The stored int8 embedding/head: what the writer stores is what the engine's head would have
/// made from the same fp16 rows, and it reads back into a head that computes the same bits.
@Suite struct VocabularyRowsTests {
    static let rows = 37, cols = 96

    /// Rows with a few channels far larger than the rest, like a model's.
    static func weights(seed: UInt64) -> [Float] {
        var rng = TestRandom(seed: seed)
        return (0..<(rows * cols)).map { i in Float(rng.normal()) * (i % cols == 5 ? 40 : 1) * 0.02 }
    }

    static func bundle(_ w: [Float]) throws -> WeightBundle {
        var writer = BundleWriter(manifest: BundleTests.sampleWriter().manifest)
        try writer.addVocabularyRows("token_embd.weight", w, rows: rows, cols: cols)
        let path = temporaryPath("vocabulary.sabundle")
        try writer.write(to: path)
        return try WeightBundle(path: path)
    }

    /// A head quantized from the fp16 rows the way the engine did before rows were stored.
    static func headFromHalves(_ w: [Float], seed: UInt64) throws -> OpaquePointer {
        var err: Int32 = 0
        let head = try #require(sa_i8_head_create(Int32(rows), Int32(cols), seed, &err))
        #expect(sa_i8_head_quantize(head, w.map { sa_float_to_half($0) }, 0, Int32(rows)) == SA_OK.rawValue)
        return head
    }

    @Test func storedRowsRoundTripIntoAHeadWithTheSameBits() throws {
        let w = Self.weights(seed: 4)
        let bundle = try Self.bundle(w)
        let stored = try BundleVocabularyRows(bundle: bundle, name: "token_embd.weight", rows: Self.rows, cols: Self.cols)
        #expect(bundle.manifest.vocabulary == BundleVocabularyStorage())
        let fresh = try Self.headFromHalves(w, seed: stored.seed)
        defer { sa_i8_head_free(fresh) }
        var values = [Int8](repeating: 0, count: Self.rows * Self.cols), scales = [Float](repeating: 0, count: Self.rows)
        #expect(sa_i8_head_export(fresh, &values, &scales, 0, Int32(Self.rows)) == SA_OK.rawValue)
        #expect(Array(stored.values) == values)
        #expect(stored.scales == scales)

        let loaded = try stored.makeHead(file: bundle.path)
        defer { sa_i8_head_free(loaded) }
        var rng = TestRandom(seed: 9)
        let tokens = 3
        let x = (0..<(tokens * Self.cols)).map { _ in Float(rng.normal()) }
        var a = [Float](repeating: 0, count: tokens * Self.rows), b = a
        #expect(sa_i8_head_apply(fresh, x, Int32(tokens), &a, nil, -1) == SA_OK.rawValue)
        #expect(sa_i8_head_apply(loaded, x, Int32(tokens), &b, nil, -1) == SA_OK.rawValue)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
    }

    /// Dequantized rows are the weights up to int8 rounding in the rotated basis: the rotation is
    /// orthonormal, so a row's error norm is at most half a step times √cols (plus fp16 rounding).
    @Test func dequantizedRowsAreTheWeightsWithinHalfAStep() throws {
        let w = Self.weights(seed: 6)
        let bundle = try Self.bundle(w)
        let stored = try BundleVocabularyRows(bundle: bundle, name: "token_embd.weight", rows: Self.rows, cols: Self.cols)
        let back = try stored.dequantized(file: bundle.path)
        for r in 0..<Self.rows {
            let error = (0..<Self.cols).reduce(0.0) { $0 + pow(Double(back[r * Self.cols + $1] - w[r * Self.cols + $1]), 2) }.squareRoot()
            let norm = (0..<Self.cols).reduce(0.0) { $0 + pow(Double(w[r * Self.cols + $1]), 2) }.squareRoot()
            #expect(error <= Double(stored.scales[r]) / 2 * Double(Self.cols).squareRoot() + 1e-3 * norm, "row \(r)")
            #expect(error > 0)
        }
    }

    @Test func damagedRowsAreRefusedByName() throws {
        var values = [Int8](repeating: 1, count: 2 * 64)
        var err: Int32 = 0
        let head = try #require(sa_i8_head_create(2, 64, 1, &err))
        defer { sa_i8_head_free(head) }
        #expect(sa_i8_head_load(head, values, [0.5, 0.25], 0, 2) == SA_OK.rawValue)
        #expect(sa_i8_head_load(head, values, [0.5, -0.25], 0, 2) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_i8_head_load(head, values, [Float.nan, 1], 0, 2) == SA_ERR_ARGUMENT.rawValue)
        values[70] = -128
        #expect(sa_i8_head_load(head, values, [0.5, 0.25], 0, 2) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_i8_head_load(head, values, [0.5, 0.25], 1, 3) == SA_ERR_ARGUMENT.rawValue)
    }
}
