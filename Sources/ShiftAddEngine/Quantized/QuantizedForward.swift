import CShiftKernels
import ShiftAddModel

/// One sequence's share of a forward pass over a paged cache: `tokens` go to positions
/// `start..<start + tokens.count`, whose blocks `blocks` must already cover.
public struct ForwardEntry: Sendable {
    /// Which of the entry's new tokens the output head runs on.
    public enum Logits: Sendable {
        case none, last, all
    }

    public var tokens: [Int]
    public var blocks: [Int32]
    public var start: Int
    public var logits: Logits

    public init(tokens: [Int], blocks: [Int32], start: Int, logits: Logits) {
        self.tokens = tokens
        self.blocks = blocks
        self.start = start
        self.logits = logits
    }
}

extension QuantizedModel {
    /// Appends each sequence's tokens to its cache (space must be reserved) and returns logits:
    /// for every new token when `allLogits`, else for each sequence's last. Rows follow the batch.
    /// At most `maxBatchTokens` tokens per call. `profile`, when given, accumulates time by part.
    public func forward(_ batch: [(tokens: [Int], sequence: PagedSequence)], allLogits: Bool,
                        profile: EngineProfile? = nil) -> [Float] {
        precondition(!batch.isEmpty, "an empty batch")
        for (tokens, sequence) in batch {
            precondition(sequence.count + tokens.count <= sequence.blocks.count * sequence.cache.blockSize,
                         "cache space not reserved")
        }
        let entries = batch.map {
            ForwardEntry(tokens: $0.tokens, blocks: $0.sequence.blocks, start: $0.sequence.count, logits: allLogits ? .all : .last)
        }
        let logits = forward(entries, cache: batch[0].sequence.cache, profile: profile)
        for (tokens, sequence) in batch { sequence.advance(by: tokens.count) }
        return logits
    }

    /// One forward pass over entries whose block tables the caller manages (the scheduler shares
    /// prefix blocks between sequences). Returns logits rows ([rows][vocab]) in batch order for
    /// the tokens each entry asks for; empty when none does.
    public func forward(_ entries: [ForwardEntry], cache: PagedKVCache, profile: EngineProfile? = nil) -> [Float] {
        let started = profile == nil ? 0 : EngineProfile.now()
        let c = config
        let n = entries.reduce(0) { $0 + $1.tokens.count }
        precondition(n > 0 && n <= maxBatchTokens, "batch of \(n) tokens (limit \(maxBatchTokens))")
        var positions: [Int] = []
        var tables: [[Int32]] = []
        for e in entries {
            precondition(!e.tokens.isEmpty, "a batch entry without tokens")
            precondition(e.start + e.tokens.count <= c.contextLength, "sequence exceeds the context of \(c.contextLength)")
            precondition(e.start + e.tokens.count <= e.blocks.count * cache.blockSize, "cache space not reserved")
            for i in 0..<e.tokens.count {
                positions.append(e.start + i)
                tables.append(e.blocks)
            }
        }
        var x = embed(entries.flatMap(\.tokens))
        var scratch = ForwardScratch(tokens: n, config: c, maxPositions: positions.max()! + 1)
        let attentionTables = AttentionTables(entries.map { ($0.blocks, $0.tokens.count) }, positions: positions)
        for l in 0..<c.layerCount {
            runBlock(l, x: &x, positions: positions, tables: tables, attentionTables: attentionTables,
                     cache: cache, scratch: &scratch, profile: profile)
        }

        let picked = HeadRows.select(x, width: c.dim, counts: entries.map(\.tokens.count),
                                     modes: entries.map(\.logits))
        let count = picked.rows
        guard count > 0 else {
            profile?.addForward(seconds: EngineProfile.now() - started)
            return []
        }
        var selected = picked.values
        let headStarted = profile == nil ? 0 : EngineProfile.now()
        sa_rmsnorm(selected, outputNorm, &selected, Int32(count), Int32(c.dim), c.rmsNormEpsilon)
        var logits = [Float](repeating: 0, count: count * c.vocabSize)
        let status = sa_f16_matmul(head, Int32(c.vocabSize), Int32(c.dim), selected, Int32(count), &logits, pool, -1)
        precondition(status == 0, "output head")
        if let profile {
            let now = EngineProfile.now()
            profile.add(.head, seconds: now - headStarted)
            profile.addForward(seconds: now - started)
        }
        return logits
    }

    /// fp16 embedding rows as fp32, [tokens][dim].
    func embed(_ tokens: [Int]) -> [Float] {
        let dim = config.dim
        var x = [Float](repeating: 0, count: tokens.count * dim)
        for (row, t) in tokens.enumerated() {
            precondition(t >= 0 && t < config.vocabSize, "token id \(t) out of range")
            let src = embedding + t * dim
            for d in 0..<dim { x[row * dim + d] = sa_half_to_float(src[d]) }
        }
        return x
    }

    private func runBlock(_ l: Int, x: inout [Float], positions: [Int], tables: [[Int32]], attentionTables: AttentionTables,
                          cache: PagedKVCache, scratch s: inout ForwardScratch, profile: EngineProfile?) {
        let c = config
        let n = positions.count
        let block = blocks[l]
        sa_rmsnorm(x, block.attentionNorm, &s.normed, Int32(n), Int32(c.dim), c.rmsNormEpsilon)
        let attnTable = buildTable(&s.normed, width: c.dim, tokens: n, profile: profile)
        apply(block, .q, table: attnTable, into: &s.q, tokens: n, profile: profile)
        apply(block, .k, table: attnTable, into: &s.k, tokens: n, profile: profile)
        apply(block, .v, table: attnTable, into: &s.v, tokens: n, profile: profile)

        let attentionStarted = profile == nil ? 0 : EngineProfile.now()
        let half = c.headDim / 2
        for t in 0..<n {
            let p = positions[t]
            cosines.withUnsafeBufferPointer { cs in
                sines.withUnsafeBufferPointer { sn in
                    let interleaved: Int32 = c.ropeStyle == .interleaved ? 1 : 0
                    s.q.withUnsafeMutableBufferPointer {
                        sa_rope($0.baseAddress! + t * c.qDim, Int32(c.headCount), Int32(c.headDim), cs.baseAddress! + p * half, sn.baseAddress! + p * half, interleaved)
                    }
                    s.k.withUnsafeMutableBufferPointer {
                        sa_rope($0.baseAddress! + t * c.kvDim, Int32(c.kvHeadCount), Int32(c.headDim), cs.baseAddress! + p * half, sn.baseAddress! + p * half, interleaved)
                    }
                }
            }
            let o = cache.offset(table: tables[t], position: p)
            s.k.withUnsafeBufferPointer { (cache.keys[l] + o).update(from: $0.baseAddress! + t * c.kvDim, count: c.kvDim) }
            s.v.withUnsafeBufferPointer { (cache.values[l] + o).update(from: $0.baseAddress! + t * c.kvDim, count: c.kvDim) }
        }
        attend(layer: l, tables: attentionTables, cache: cache, scratch: &s)
        profile?.add(.attention, seconds: EngineProfile.now() - attentionStarted)

        let outTable = buildTable(&s.attention, width: c.qDim, tokens: n, profile: profile)
        apply(block, .o, table: outTable, into: &s.projected, tokens: n, profile: profile)
        for i in 0..<(n * c.dim) { x[i] += s.projected[i] }

        sa_rmsnorm(x, block.ffnNorm, &s.normed, Int32(n), Int32(c.dim), c.rmsNormEpsilon)
        let mlpTable = buildTable(&s.normed, width: c.dim, tokens: n, profile: profile)
        apply(block, .gate, table: mlpTable, into: &s.gate, tokens: n, profile: profile)
        apply(block, .up, table: mlpTable, into: &s.up, tokens: n, profile: profile)
        sa_swiglu(&s.gate, s.up, n * c.hiddenDim)
        let downTable = buildTable(&s.gate, width: c.hiddenDim, tokens: n, profile: profile)
        apply(block, .down, table: downTable, into: &s.projected, tokens: n, profile: profile)
        for i in 0..<(n * c.dim) { x[i] += s.projected[i] }
    }

    /// Rotates the rows of `input` (when the bundle was converted with rotation) and builds the
    /// lookup tables every projection reading this input shares.
    private func buildTable(_ input: inout [Float], width: Int, tokens: Int, profile: EngineProfile?) -> OpaquePointer {
        let started = profile == nil ? 0 : EngineProfile.now()
        defer { profile?.add(.tables, seconds: EngineProfile.now() - started) }
        if let signs = rotations[width] {
            let status = sa_rht(&input, tokens, width, rotationBlock, signs)
            precondition(status == 0, "rotation of width \(width)")
        }
        let table = tables[width]!
        let status = sa_lut_build(table, input, Int32(tokens))
        precondition(status == 0, "table build of width \(width)")
        return table
    }

    private func apply(_ block: QuantizedBlock, _ p: TensorName.Projection, table: OpaquePointer, into y: inout [Float], tokens: Int,
                       profile: EngineProfile?) {
        let started = profile == nil ? 0 : EngineProfile.now()
        let status = sa_qlinear_apply(block.projections[p]!, table, &y, Int32(tokens), pool)
        profile?.add(.lookups, seconds: EngineProfile.now() - started)
        precondition(status == 0, "projection \(p)")
        if let bias = block.biases[p] {
            for t in 0..<tokens { for i in bias.indices { y[t * bias.count + i] += bias[i] } }
        }
    }

    private func attend(layer l: Int, tables: AttentionTables, cache: PagedKVCache, scratch s: inout ForwardScratch) {
        let c = config
        let status = sa_attention_paged_batch(s.q, &s.attention, Int32(tables.counts.count), Int32(c.headCount), Int32(c.kvHeadCount),
                                              Int32(c.headDim), cache.keys[l], cache.values[l], tables.pointers, tables.counts,
                                              Int32(cache.blockSize),
                                              1 / Float(c.headDim).squareRoot(), &s.scores, Int32(s.maxPositions), pool)
        precondition(status == 0, "attention")
    }
}

/// The batch's block tables in the form the C attention reads, built once per forward pass rather
/// than per layer: one copy of each sequence's table, one pointer and one visible length per token.
final class AttentionTables {
    let pointers: [UnsafePointer<Int32>?]
    let counts: [Int32]
    private let storage: [UnsafeMutablePointer<Int32>]

    init(_ sequences: [(blocks: [Int32], tokens: Int)], positions: [Int]) {
        var storage: [UnsafeMutablePointer<Int32>] = []
        var pointers: [UnsafePointer<Int32>?] = []
        for (blocks, tokens) in sequences {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(blocks.count, 1))
            p.update(from: blocks, count: blocks.count)
            storage.append(p)
            pointers += Array(repeating: UnsafePointer(p), count: tokens)
        }
        self.storage = storage
        self.pointers = pointers
        counts = positions.map { Int32($0 + 1) }
    }

    deinit { storage.forEach { $0.deallocate() } }
}

/// Activation buffers of one forward pass, sized for its token count.
struct ForwardScratch {
    var normed, q, k, v, attention, projected, gate, up, scores: [Float]
    let maxPositions: Int

    init(tokens n: Int, config c: ModelConfig, maxPositions: Int) {
        normed = [Float](repeating: 0, count: n * c.dim)
        q = [Float](repeating: 0, count: n * c.qDim)
        k = [Float](repeating: 0, count: n * c.kvDim)
        v = k
        attention = q
        projected = normed
        gate = [Float](repeating: 0, count: n * c.hiddenDim)
        up = gate
        self.maxPositions = maxPositions
        scores = [Float](repeating: 0, count: n * c.headCount * maxPositions)
    }
}
