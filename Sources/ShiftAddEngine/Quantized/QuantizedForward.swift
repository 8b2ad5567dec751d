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
    public func forward(_ entries: [ForwardEntry], cache: PagedKVCache, profile: EngineProfile?) -> [Float] {
        let started = profile == nil ? 0 : EngineProfile.now()
        let c = config
        let n = entries.reduce(0) { $0 + $1.tokens.count }
        precondition(n > 0 && n <= maxBatchTokens, "batch of \(n) tokens (limit \(maxBatchTokens))")
        var positions: [Int] = []
        var slots: [Int] = []
        var windowSlots: [Int] = []
        positions.reserveCapacity(n)
        slots.reserveCapacity(n)
        for e in entries {
            precondition(!e.tokens.isEmpty, "a batch entry without tokens")
            precondition(e.start + e.tokens.count <= c.contextLength, "sequence exceeds the context of \(c.contextLength)")
            precondition(e.start + e.tokens.count <= e.blocks.count * cache.blockSize, "cache space not reserved")
            for p in e.start..<(e.start + e.tokens.count) {
                positions.append(p)
                slots.append(cache.offset(table: e.blocks, position: p))
                if cache.window != nil { windowSlots.append(cache.windowOffset(table: e.blocks, position: p)) }
            }
        }
        let b = buffers
        b.reserve(tokens: n)
        embed(entries.flatMap(\.tokens), into: b.x)
        // The windowed layers read their blocks through the window slots (-1 for blocks the window has
        // left, which attention never reads).
        let windowTables = cache.window.map { _ in
            AttentionTables(entries.map { ($0.blocks.map { cache.windowSlot(of: $0) ?? -1 }, $0.tokens.count) }, positions: positions)
        }
        let pass = BlockPass(positions: positions, slots: slots, windowSlots: windowSlots, cache: cache, profile: profile,
                             attentionTables: AttentionTables(entries.map { ($0.blocks, $0.tokens.count) }, positions: positions),
                             windowTables: windowTables)
        for l in 0..<c.layerCount {
            switch c.family {
            case .llama: runLlamaBlock(l, pass)
            case .gemma3: runGemma3Block(l, pass)
            }
        }

        let rows = HeadRows.rows(counts: entries.map(\.tokens.count), modes: entries.map(\.logits))
        guard !rows.isEmpty else {
            profile?.addForward(seconds: EngineProfile.now() - started)
            return []
        }
        let headStarted = profile == nil ? 0 : EngineProfile.now()
        for (i, r) in rows.enumerated() {
            (b.selected + i * c.dim).update(from: b.x + r * c.dim, count: c.dim)
        }
        sa_rmsnorm(b.selected, outputNorm, b.selected, Int32(rows.count), Int32(c.dim), c.rmsNormEpsilon)
        let logits = [Float](unsafeUninitializedCapacity: rows.count * c.vocabSize) { out, initialized in
            let status: Int32
            switch head {
            case let .rows(h):
                status = sa_i8_head_apply(h, b.selected, Int32(rows.count), out.baseAddress, pool, -1)
            case let .planes(q):
                // The whole head, table build included, counts as head time.
                let table = buildTable(b.selected, width: c.dim, tokens: rows.count, profile: nil)
                status = sa_qlinear_apply(q, table, out.baseAddress, Int32(rows.count), pool)
            }
            precondition(status == 0, "output head")
            initialized = rows.count * c.vocabSize
        }
        if let profile {
            let now = EngineProfile.now()
            profile.add(.head, seconds: now - headStarted)
            profile.addForward(seconds: now - started)
        }
        return logits
    }

    /// Embedding rows as fp32, [tokens][dim]: the int8 rows, or the tied head's planes rows,
    /// dequantized and rotated back, times the family's embedding scale.
    func embed(_ tokens: [Int], into x: UnsafeMutablePointer<Float>) {
        let dim = config.dim
        for (row, t) in tokens.enumerated() {
            precondition(t >= 0 && t < config.vocabSize, "token id \(t) out of range")
            if let embeddingPlanes {
                embeddingPlanes.row(t, into: x + row * dim)
                continue
            }
            guard let rows = embedding ?? head.rows else { preconditionFailure("no embedding rows") }
            let status = sa_i8_head_row(rows, Int32(t), x + row * dim)
            precondition(status == SA_OK.rawValue, "embedding row")
        }
        let scale = config.embeddingScale
        if scale != 1 { for i in 0..<(tokens.count * dim) { x[i] *= scale } }
    }

    /// The projections `ps` of `block` that read `input` ([tokens][width]), into `ys`: the input's
    /// rotation and table build, then the lookups. The recipes' step "x·Wᵀ".
    func project(_ block: QuantizedBlock, _ ps: [TensorName.Projection], from input: UnsafeMutablePointer<Float>, width: Int,
                 into ys: [UnsafeMutablePointer<Float>], _ pass: BlockPass) {
        let table = buildTable(input, width: width, tokens: pass.tokens, profile: pass.profile)
        apply(block, ps, table: table, into: ys, tokens: pass.tokens, profile: pass.profile)
    }

    /// Self-attention of layer `l` over `buffers.q`, `.k`, `.v` into `buffers.attention`: rotates q
    /// and k by position (at the layer's rotary base), stores k and v in the layer's cache pools at
    /// each token's slot, and attends over each token's positions (the layer's window, if any).
    func attend(_ l: Int, _ pass: BlockPass) {
        let c = config
        let b = buffers
        let started = pass.profile == nil ? 0 : EngineProfile.now()
        let half = c.headDim / 2
        let interleaved: Int32 = c.ropeStyle == .interleaved ? 1 : 0
        let keys = pass.cache.keys[l], values = pass.cache.values[l]
        let windowed = pass.cache.windowed[l]
        let slots = windowed ? pass.windowSlots : pass.slots
        let tables = windowed ? pass.windowTables! : pass.attentionTables
        let rotary = layerRotary[l]
        rotary.cosines.withUnsafeBufferPointer { cs in
            rotary.sines.withUnsafeBufferPointer { sn in
                for t in 0..<pass.tokens {
                    let angle = pass.positions[t] * half
                    sa_rope(b.q + t * c.qDim, Int32(c.headCount), Int32(c.headDim), cs.baseAddress! + angle, sn.baseAddress! + angle, interleaved)
                    sa_rope(b.k + t * c.kvDim, Int32(c.kvHeadCount), Int32(c.headDim), cs.baseAddress! + angle, sn.baseAddress! + angle, interleaved)
                    sa_kv_store_half(keys + slots[t], b.k + t * c.kvDim, c.kvDim)
                    sa_kv_store_half(values + slots[t], b.v + t * c.kvDim, c.kvDim)
                }
            }
        }
        let status = sa_attention_paged_batch(b.q, b.attention, Int32(pass.tokens), Int32(c.headCount), Int32(c.kvHeadCount),
                                              Int32(c.headDim), keys, values, Int32(SA_KV_F16.rawValue), tables.pointers,
                                              tables.counts, Int32(c.attentionWindow(layer: l) ?? 0),
                                              Int32(pass.cache.blockSize), c.attentionScale, pool, -1)
        precondition(status == 0, "attention")
        pass.profile?.add(.attention, seconds: EngineProfile.now() - started)
    }

    /// x += y over the batch's residual stream, y [tokens][dim].
    func addToResidual(_ y: UnsafeMutablePointer<Float>, _ pass: BlockPass) {
        let x = buffers.x
        for i in 0..<(pass.tokens * config.dim) { x[i] += y[i] }
    }

    /// Rotates the rows of `input` in place (when the bundle was converted with rotation) and
    /// builds the lookup tables every projection reading this input shares, tokens split over
    /// the pool.
    private func buildTable(_ input: UnsafeMutablePointer<Float>, width: Int, tokens: Int, profile: EngineProfile?) -> OpaquePointer {
        let started = profile == nil ? 0 : EngineProfile.now()
        defer { profile?.add(.tables, seconds: EngineProfile.now() - started) }
        let table = tables[width]!
        let status: Int32
        if let signs = rotations[width] {
            status = signs.withUnsafeBufferPointer {
                sa_lut_build_threaded(table, input, Int32(tokens), $0.baseAddress, rotationBlock, pool)
            }
        } else {
            status = sa_lut_build_threaded(table, input, Int32(tokens), nil, 0, pool)
        }
        precondition(status == 0, "rotation and table build of width \(width)")
        return table
    }

    /// The projections `ps` that read `table`, in one hand-out over the pool, into `ys`.
    private func apply(_ block: QuantizedBlock, _ ps: [TensorName.Projection], table: OpaquePointer,
                       into ys: [UnsafeMutablePointer<Float>], tokens: Int, profile: EngineProfile?) {
        let started = profile == nil ? 0 : EngineProfile.now()
        let layers: [OpaquePointer?] = ps.map { block.projections[$0]! }
        let outputs: [UnsafeMutablePointer<Float>?] = ys
        let status = sa_qlinear_apply_many(layers, outputs, Int32(ps.count), table, Int32(tokens), pool)
        profile?.add(.lookups, seconds: EngineProfile.now() - started)
        precondition(status == 0, "projections \(ps)")
        for (p, y) in zip(ps, ys) {
            if let bias = block.biases[p] {
                for t in 0..<tokens { for i in bias.indices { y[t * bias.count + i] += bias[i] } }
            }
        }
    }
}

/// What every block of one forward pass shares: where the batch's tokens sit and where their keys
/// and values go (`slots[t]`, an offset into each whole-context layer's cache pools, `windowSlots[t]`
/// into each sliding-window layer's), and the block tables attention reads each kind through.
struct BlockPass {
    let positions: [Int]
    let slots: [Int]
    /// Empty without sliding-window layers.
    let windowSlots: [Int]
    let cache: PagedKVCache
    let profile: EngineProfile?
    let attentionTables: AttentionTables
    /// The tables of window slots; nil without sliding-window layers.
    let windowTables: AttentionTables?

    var tokens: Int { positions.count }
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
        pointers.reserveCapacity(positions.count)
        for (blocks, tokens) in sequences {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(blocks.count, 1))
            p.update(from: blocks, count: blocks.count)
            storage.append(p)
            for _ in 0..<tokens { pointers.append(UnsafePointer(p)) }
        }
        self.storage = storage
        self.pointers = pointers
        counts = positions.map { Int32($0 + 1) }
    }

    deinit { storage.forEach { $0.deallocate() } }
}
