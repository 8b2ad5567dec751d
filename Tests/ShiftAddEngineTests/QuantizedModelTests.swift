import CShiftKernels
import Foundation
import ShiftAddBundle
@testable import ShiftAddEngine
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// Tokens for tests: seeded, spread over the tiny vocabulary.
func tinyTokens(_ count: Int, seed: UInt64, vocab: Int = 260) -> [Int] {
    var rng = TestRandom(seed: seed)
    return (0..<count).map { _ in Int(rng.next() % UInt64(vocab)) }
}

/// Runs `tokens` as one sequence on a fresh cache, in chunks of the given sizes, and returns the
/// logits of every position.
func quantizedLogits(_ model: QuantizedModel, _ tokens: [Int], chunks: [Int]? = nil, blockSize: Int = 16) -> [Float] {
    let cache = model.makeCache(blocks: (tokens.count + blockSize - 1) / blockSize, blockSize: blockSize)
    let sequence = PagedSequence(cache: cache)
    var logits: [Float] = []
    var start = 0
    for n in chunks ?? [tokens.count] {
        precondition(sequence.reserve(n))
        logits += model.forward([(Array(tokens[start..<(start + n)]), sequence)], allLogits: true)
        start += n
    }
    precondition(start == tokens.count)
    return logits
}

@Suite struct QuantizedModelTests {
    /// The kernels compute the same deployed weights as the fp32 reference reading the bundle, up
    /// to the int8 tables: each 4-activation sum is rounded to a step of (largest 4-activation |x|
    /// sum in the group) / 127, an RMS error near 0.2% of that largest sum, independent across sums.
    /// Through two layers and the head this leaves the logits within about 1% of their RMS
    /// (observed 0.7–0.8%, largest entry error 0.3–0.8% of the largest |logit|). Asserted: RMS error
    /// ≤ 1.5% of the logits' RMS, every entry within 3% of the largest |logit|, and the same argmax
    /// at ≥ 90% of positions (observed 20 of 20). A planes head (`headBits` below 8) runs on the
    /// same tables and is held to the same bounds.
    @Test(arguments: [(true, true, 8), (false, false, 8), (true, true, 3), (true, false, 2), (false, true, 4)])
    func kernelsMatchTheDequantizedReference(rotate: Bool, tied: Bool, headBits: Int) throws {
        let bundle = try TinyQuantizedBundle.make(rotate: rotate, tied: tied, headBits: headBits)
        let kernels = try QuantizedModel(bundle: bundle, threads: 2)
        let reference = try ReferenceModel(BundleWeights(bundle: bundle))
        let tokens = tinyTokens(20, seed: 5)
        let got = quantizedLogits(kernels, tokens)
        let want = reference.logits(tokens: tokens)
        #expect(got.count == want.count)
        let vocab = kernels.config.vocabSize
        let largest = want.map(abs).max()!
        let worst = zip(got, want).map { abs($0 - $1) }.max()!
        let rms = (zip(got, want).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(want.count)).squareRoot()
        let spread = (want.reduce(0.0) { $0 + Double($1 * $1) } / Double(want.count)).squareRoot()
        var agree = 0
        for p in tokens.indices {
            let g = got[(p * vocab)..<((p + 1) * vocab)], w = want[(p * vocab)..<((p + 1) * vocab)]
            if g.indices.max(by: { g[$0] < g[$1] }) == w.indices.max(by: { w[$0] < w[$1] }) { agree += 1 }
        }
        #expect(worst <= 0.03 * largest, "max |Δ| \(worst), max |logit| \(largest)")
        #expect(rms <= 0.015 * spread, "RMS Δ \(rms), RMS logit \(spread)")
        #expect(agree * 10 >= tokens.count * 9, "argmax agrees at \(agree) of \(tokens.count)")
    }

    /// A tied embedding stored as int8 rows: each row the engine embeds is the stored row
    /// dequantized and rotated back (bit for bit), also after the bundle's copies are released.
    @Test func tiedEmbeddingRowsAreTheStoredInt8RowsRotatedBack() throws {
        let bundle = try TinyQuantizedBundle.make()
        let c = bundle.manifest.config
        let expected = try BundleVocabularyRows(bundle: bundle, name: TensorName.tokenEmbedding, rows: c.vocabSize, cols: c.dim)
            .dequantized(file: bundle.path)
        let model = try QuantizedModel(bundle: bundle, threads: 1)
        model.releaseBundleCopies()
        let tokens = [0, 7, c.vocabSize - 1, 7, 200]
        var rows = [Float](repeating: .nan, count: tokens.count * c.dim)
        rows.withUnsafeMutableBufferPointer { model.embed(tokens, into: $0.baseAddress!) }
        for (i, t) in tokens.enumerated() {
            #expect(rows[(i * c.dim)..<((i + 1) * c.dim)].map(\.bitPattern) == expected[(t * c.dim)..<((t + 1) * c.dim)].map(\.bitPattern))
        }
    }

    /// A tied embedding stored as head planes: each row the engine embeds is the planes row
    /// dequantized and rotated back (bit for bit), also after the bundle's copies are released.
    @Test(arguments: [true, false])
    func tiedEmbeddingRowsAreTheHeadPlanesRotatedBack(rotate: Bool) throws {
        let bundle = try TinyQuantizedBundle.make(rotate: rotate, headBits: 3)
        let c = bundle.manifest.config
        let linear = try #require(try BundleVocabularyPlanes(bundle: bundle)).projection.linear
        var expected = linear.dequantized()
        if let signs = bundle.manifest.quantization.rotation.signs(width: c.dim) {
            #expect(sa_rht_inverse(&expected, c.vocabSize, c.dim, 64, signs) == 0)
        }
        let model = try QuantizedModel(bundle: bundle, threads: 1)
        model.releaseBundleCopies()
        let tokens = [0, 5, c.vocabSize - 1, 5, 131]
        var rows = [Float](repeating: .nan, count: tokens.count * c.dim)
        rows.withUnsafeMutableBufferPointer { model.embed(tokens, into: $0.baseAddress!) }
        for (i, t) in tokens.enumerated() {
            #expect(rows[(i * c.dim)..<((i + 1) * c.dim)].map(\.bitPattern) == expected[(t * c.dim)..<((t + 1) * c.dim)].map(\.bitPattern))
        }
    }

    /// The LUT path treats every token alone, so a position's logits do not depend on whether it
    /// was computed in a prefill, in chunks or one token at a time.
    @Test func incrementalDecodeEqualsPrefillBitExactly() throws {
        let model = try QuantizedModel(bundle: try TinyQuantizedBundle.make(), threads: 2)
        let tokens = tinyTokens(40, seed: 9)
        let prefill = quantizedLogits(model, tokens)
        let oneByOne = quantizedLogits(model, tokens, chunks: [Int](repeating: 1, count: tokens.count))
        let chunked = quantizedLogits(model, tokens, chunks: [7, 1, 1, 16, 2, 13], blockSize: 4)
        #expect(prefill == oneByOne)
        #expect(prefill == chunked)
    }

    /// Rows of one forward call equal the same sequences computed alone, bit for bit, for batches of
    /// 1 to 64 sequences mixing prefill chunks and single decode tokens in the same call.
    @Test(arguments: [1, 3, 17, 64])
    func batchRowsEqualSequencesAlone(batch: Int) throws {
        let model = try QuantizedModel(bundle: try TinyQuantizedBundle.make(), threads: 2)
        let vocab = model.config.vocabSize
        var rng = TestRandom(seed: UInt64(batch))
        // Sequence i: a first chunk, then a second chunk that is a single decode token for some.
        let plans: [(first: Int, second: Int)] = (0..<batch).map { i in
            (1 + Int(rng.next() % 6), i % 3 == 0 ? 1 + Int(rng.next() % 5) : 1)
        }
        let sequences = plans.enumerated().map { i, plan in tinyTokens(plan.first + plan.second, seed: 100 + UInt64(i)) }
        let cache = model.makeCache(blocks: 4 * batch, blockSize: 4)
        let paged = sequences.map { _ in PagedSequence(cache: cache) }
        var rows = [[Float]](repeating: [], count: batch)
        for step in 0..<2 {
            var calls: [(tokens: [Int], sequence: PagedSequence)] = []
            for (i, s) in sequences.enumerated() {
                let chunk = step == 0 ? Array(s[..<plans[i].first]) : Array(s[plans[i].first...])
                #expect(paged[i].reserve(chunk.count))
                calls.append((chunk, paged[i]))
            }
            let logits = model.forward(calls, allLogits: true)
            var offset = 0
            for i in 0..<batch {
                let n = calls[i].tokens.count * vocab
                rows[i] += logits[offset..<(offset + n)]
                offset += n
            }
            #expect(offset == logits.count)
        }
        for (i, s) in sequences.enumerated() {
            #expect(paged[i].count == s.count)
            #expect(rows[i] == quantizedLogits(model, s), "sequence \(i) of \(batch)")
        }
    }

    @Test func lastTokenLogitsAreTheLastRowOfAllLogits() throws {
        let model = try QuantizedModel(bundle: try TinyQuantizedBundle.make(bits: 2), threads: 1)
        let vocab = model.config.vocabSize
        let tokens = tinyTokens(11, seed: 3)
        let all = quantizedLogits(model, tokens)
        let session = model.session(capacity: tokens.count)
        let last = session.append(tokens, allLogits: false)
        #expect(session.count == tokens.count)
        #expect(last == Array(all[((tokens.count - 1) * vocab)...]))
    }

    @Test func sessionRunsPromptsLongerThanTheBatchLimitInChunks() throws {
        let bundle = try TinyQuantizedBundle.make(bits: 4)
        let small = try QuantizedModel(bundle: bundle, threads: 1, maxBatchTokens: 8)
        let tokens = tinyTokens(30, seed: 4)
        let session = small.session(capacity: 32)
        let logits = session.append(tokens, allLogits: true)
        #expect(session.count == 30)
        #expect(session.capacity == 32)
        #expect(logits == quantizedLogits(try QuantizedModel(bundle: bundle, threads: 2), tokens))
    }

    @Test func moreBitsTrackTheUnquantizedModelCloser() throws {
        let source = temporaryPath("tiny.gguf")
        try GGUFBuilder.tinyModelForConversion().write(to: source)
        let exact = try ReferenceModel(try GGUFReader.read(path: source)).logits(tokens: tinyTokens(12, seed: 8))
        var errors: [Double] = []
        for bits in 2...4 {
            let model = try QuantizedModel(bundle: try TinyQuantizedBundle.make(bits: bits, rotate: false), threads: 2)
            let got = quantizedLogits(model, tinyTokens(12, seed: 8))
            let num = zip(got, exact).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            errors.append((num / exact.reduce(0.0) { $0 + Double($1 * $1) }).squareRoot())
        }
        // Observed 0.55, 0.38, 0.29 (greedy binarization, no error feedback).
        #expect(errors[0] > errors[1] && errors[1] > errors[2], "relative logit errors at 2, 3, 4 bits: \(errors)")
    }
}
