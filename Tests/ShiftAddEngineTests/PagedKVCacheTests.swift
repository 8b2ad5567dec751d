@testable import ShiftAddEngine
import ShiftAddTestSupport
import Testing

@Suite struct PagedKVCacheTests {
    @Test func reserveTakesExactlyTheBlocksNeeded() {
        let cache = PagedKVCache(layers: 2, kvDim: 8, blockSize: 4, blockCount: 6)
        #expect(cache.freeBlocks == 6)
        // Keys and values, 2 layers, 4 positions, 8 fp16 elements each.
        #expect(cache.bytesPerBlock == 2 * 2 * 4 * 8 * 2)
        #expect(PagedKVCache.bytesPerBlock(layers: 2, kvDim: 8, blockSize: 4) == cache.bytesPerBlock)
        let s = PagedSequence(cache: cache)
        #expect(s.reserve(0))
        #expect(s.blocks.isEmpty)
        #expect(s.reserve(10))
        #expect(s.blocks.count == 3)
        #expect(cache.freeBlocks == 3)
        // Room is counted from the filled positions: 12 fit in the 3 blocks already held.
        #expect(s.reserve(12))
        #expect(s.blocks.count == 3)
        #expect(s.reserve(13))
        #expect(s.blocks.count == 4)
        #expect(cache.freeBlocks == 2)
        #expect(Set(s.blocks).count == 4)
        #expect(s.blocks.allSatisfy { (0..<6).contains($0) })
        #expect(s.count == 0)
    }

    @Test func failedReserveTakesNothing() {
        let cache = PagedKVCache(layers: 1, kvDim: 4, blockSize: 4, blockCount: 5)
        let a = PagedSequence(cache: cache)
        let b = PagedSequence(cache: cache)
        #expect(a.reserve(9))
        #expect(cache.freeBlocks == 2)
        #expect(!b.reserve(9))
        #expect(b.blocks.isEmpty)
        #expect(cache.freeBlocks == 2)
        #expect(!a.reserve(21))
        #expect(a.blocks.count == 3)
        #expect(cache.freeBlocks == 2)
        #expect(b.reserve(8))
        #expect(cache.freeBlocks == 0)
        #expect(cache.allocate() == nil)
        #expect(Set(a.blocks + b.blocks).count == 5)
    }

    @Test func resetAndDeinitReturnBlocks() {
        let cache = PagedKVCache(layers: 1, kvDim: 4, blockSize: 4, blockCount: 8)
        let kept = PagedSequence(cache: cache)
        #expect(kept.reserve(5))
        do {
            let transient = PagedSequence(cache: cache)
            #expect(transient.reserve(17))
            #expect(cache.freeBlocks == 1)
        }
        #expect(cache.freeBlocks == 6)
        kept.reset()
        #expect(kept.blocks.isEmpty)
        #expect(kept.count == 0)
        #expect(cache.freeBlocks == 8)
        // Every block is handed out again, each once.
        let all = PagedSequence(cache: cache)
        #expect(all.reserve(32))
        #expect(all.blocks.sorted() == Array(0..<8))
    }

    @Test func allocateAndReleaseRoundTrip() {
        let cache = PagedKVCache(layers: 1, kvDim: 4, blockSize: 2, blockCount: 3)
        let taken = (0..<3).compactMap { _ in cache.allocate() }
        #expect(taken.sorted() == [0, 1, 2])
        #expect(cache.allocate() == nil)
        cache.release([taken[1]])
        #expect(cache.freeBlocks == 1)
        #expect(cache.allocate() == taken[1])
    }

    /// Positions in a sequence whose blocks are scattered over the pool (interleaved with another
    /// sequence's, out of order) give exactly the logits of one contiguous block: the block table
    /// maps every position across block boundaries to the right place.
    @Test func blockTablesMapPositionsAcrossBoundaries() throws {
        let model = try QuantizedModel(bundle: try TinyQuantizedBundle.make(bits: 2), threads: 1)
        let tokens = tinyTokens(10, seed: 21)
        let contiguous = quantizedLogits(model, tokens, blockSize: 16)

        let cache = model.makeCache(blocks: 8, blockSize: 4)
        // Blocks are handed out in the order released: the sequence gets 6, 5, 7.
        #expect((0..<8).compactMap { _ in cache.allocate() }.count == 8)
        cache.release([6, 2, 5, 0, 7, 1])
        let other = PagedSequence(cache: cache)
        let scattered = PagedSequence(cache: cache)
        var logits: [Float] = []
        for chunk in [[0, 1, 2], [3, 4, 5, 6], [7], [8, 9]] {
            #expect(scattered.reserve(chunk.count))
            #expect(other.reserve(chunk.count))
            logits += model.forward([(chunk.map { tokens[$0] }, scattered), (chunk.map { tokens[($0 + 3) % 10] }, other)],
                                    allLogits: true).prefix(chunk.count * model.config.vocabSize)
        }
        #expect(scattered.count == 10)
        #expect(scattered.blocks == [6, 5, 7])
        #expect(logits == contiguous)
    }
}

@Suite struct PagedKVCacheWindowTests {
    /// Two of three layers windowed: blocks cost the third layer's bytes, slots the other two's.
    @Test func windowedLayersLiveInTheirOwnPool() {
        let cache = PagedKVCache(layers: 3, kvDim: 8, blockSize: 4, blockCount: 6, window: 5, windowedLayers: [0, 2], windowSlots: 2)
        #expect(cache.window == 5)
        #expect(cache.windowSlotCount == 2)
        #expect(cache.bytesPerBlock == PagedKVCache.bytesPerBlock(layers: 1, kvDim: 8, blockSize: 4))
        #expect(cache.bytesPerWindowSlot == PagedKVCache.bytesPerBlock(layers: 2, kvDim: 8, blockSize: 4))
        let blocks = (0..<3).compactMap { _ in cache.allocate() }
        #expect(blocks.allSatisfy { cache.windowSlot(of: $0) == nil })
        #expect(cache.attachWindowSlot(to: blocks[0]))
        #expect(cache.attachWindowSlot(to: blocks[1]))
        #expect(!cache.attachWindowSlot(to: blocks[2]))
        #expect(cache.freeWindowSlots == 0)
        #expect(Set([cache.windowSlot(of: blocks[0]), cache.windowSlot(of: blocks[1])]) == [0, 1])
        // A block detached from its slot keeps its place in the other layers; the slot serves another.
        let slot = cache.windowSlot(of: blocks[0])
        cache.detachWindowSlot(from: blocks[0])
        #expect(cache.windowSlot(of: blocks[0]) == nil)
        #expect(cache.attachWindowSlot(to: blocks[2]))
        #expect(cache.windowSlot(of: blocks[2]) == slot)
        // Releasing a block returns its slot too.
        cache.release([blocks[1], blocks[2]])
        #expect(cache.freeWindowSlots == 2)
        #expect(cache.freeBlocks == 5)
        #expect(cache.windowSlot(of: blocks[1]) == nil)
    }

    /// Without windowed layers there are no slots, and a block costs every layer.
    @Test func withoutAWindowEveryLayerIsPerBlock() {
        let cache = PagedKVCache(layers: 3, kvDim: 8, blockSize: 4, blockCount: 6)
        #expect(cache.window == nil)
        #expect(cache.windowSlotCount == 0)
        #expect(cache.bytesPerWindowSlot == 0)
        #expect(cache.bytesPerBlock == PagedKVCache.bytesPerBlock(layers: 3, kvDim: 8, blockSize: 4))
    }

    /// A lone sequence gives every block it takes a slot, and takes nothing when slots run short.
    @Test func aSequenceTakesASlotPerBlock() {
        let cache = PagedKVCache(layers: 2, kvDim: 4, blockSize: 4, blockCount: 6, window: 8, windowedLayers: [1], windowSlots: 3)
        let s = PagedSequence(cache: cache)
        #expect(s.reserve(9))
        #expect(s.blocks.allSatisfy { cache.windowSlot(of: $0) != nil })
        #expect(cache.freeWindowSlots == 0)
        #expect(!s.reserve(13))
        #expect(s.blocks.count == 3)
        #expect(cache.freeBlocks == 3)
        s.reset()
        #expect(cache.freeWindowSlots == 3)
        #expect(cache.freeBlocks == 6)
    }
}

@Suite struct PagedKVCacheWindowEngineTests {
    /// A tiny Gemma 3 (window 8; six of its seven layers windowed) decoding 30 tokens one at a time
    /// on blocks of 4 and only 3 window slots, each block losing its slot as soon as the window has
    /// left it, gives the same logits bit for bit as one prefill with a slot for every block: the
    /// windowed layers store and read through the slots, the global layer through the blocks.
    @Test func windowedLayersReadThroughTheirSlots() throws {
        let bundle = try TinyQuantizedBundle.make(from: GGUFBuilder.tinyGemma3(dim: 64, hidden: 128, heads: 4, kvHeads: 2,
                                                                               headDim: 16, window: 8, vocab: 40), bits: 3)
        let model = try QuantizedModel(bundle: bundle, threads: 1)
        #expect(model.attentionWindow == 8)
        let vocab = model.config.vocabSize
        let tokens = tinyTokens(30, seed: 21, vocab: 40)
        let everyBlock = PagedSequence(cache: model.makeCache(blocks: 8, blockSize: 4))
        #expect(everyBlock.reserve(30))
        let prefill = model.forward([(tokens, everyBlock)], allLogits: true)

        let cache = model.makeCache(blocks: 8, windowSlots: 3, blockSize: 4)
        var table: [Int32] = []
        var decoded: [Float] = []
        for (p, token) in tokens.enumerated() {
            if p % 4 == 0 {
                table.append(cache.allocate()!)
                #expect(cache.attachWindowSlot(to: table.last!))
            }
            decoded += model.forward([ForwardEntry(tokens: [token], blocks: table, start: p, logits: .last)], cache: cache)
            // The next query, at p + 1, reads positions p + 2 - 8 ... p + 1.
            for (i, b) in table.enumerated() where (i + 1) * 4 <= p + 2 - 8 && cache.windowSlot(of: b) != nil {
                cache.detachWindowSlot(from: b)
            }
        }
        #expect(cache.freeWindowSlots == 0)
        #expect(decoded.count == 30 * vocab)
        #expect(decoded == prefill)
        // The last position's keys sit at its block's slot in a windowed layer, at its block in the
        // global one, as in the cache with a slot per block.
        let full = everyBlock.cache
        #expect(cache.windowed == [true, true, true, true, true, false, true])
        for l in [0, 5] {
            let at = cache.windowed[l] ? cache.windowOffset(table: table, position: 29) : cache.offset(table: table, position: 29)
            let want = full.windowed[l] ? full.windowOffset(table: everyBlock.blocks, position: 29)
                : full.offset(table: everyBlock.blocks, position: 29)
            let kvDim = model.config.kvDim
            let got = Array(UnsafeBufferPointer(start: cache.keys[l] + at, count: kvDim))
            #expect(got == Array(UnsafeBufferPointer(start: full.keys[l] + want, count: kvDim)))
            #expect(got.contains { $0 != 0 })
        }
    }
}
