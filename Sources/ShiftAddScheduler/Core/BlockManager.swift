import ShiftAddEngine

/// The blocks of one KV pool: who holds them, and the prefix cache.
///
/// A block is in exactly one of three states: free (in the pool's free list), used (referenced by
/// one or more sequences), or cached (unreferenced, but holding the keys and values of a full
/// block of tokens another sequence may reuse). The prefix cache keys a full block by a chain hash of
/// its parent block's key and its own tokens, so a key names the whole prefix up to the block's end;
/// lookups compare the stored parent key and tokens too, so a hash collision never shares wrong data.
/// Cached blocks are evicted least recently released first when the free list runs out.
///
/// With sliding-window layers a block also needs a window slot (see `PagedKVCache`) while a query
/// may still read it there. Sequences hold window references besides block references: to every
/// block from the first their next query reads (`windowStart(at:)`) to their last, giving them up
/// as they advance. A slot without window references goes back to the pool, unless its block is in
/// the prefix cache: then it stays attached, idle, so the cache can resume after that block, and is
/// taken back least recently idled first when the slot pool runs out. A prefix hit is cut back to
/// the longest one whose last window still has its slots; earlier blocks need none.
///
/// Engine thread only.
final class BlockManager {
    /// A full block's place in the prefix cache.
    struct Key {
        let hash: UInt64
        let parent: UInt64
        let tokens: [Int]
    }

    /// Outcome of offering a computed block to the prefix cache.
    enum Registration {
        /// The block now backs this key (or already did).
        case cached(UInt64)
        /// Another block already holds the same tokens after the same prefix; this one stays private.
        case duplicate(UInt64)
        /// Another prefix hashed to the same key: stop caching this sequence's later blocks.
        case collision
    }

    /// Parent key of a sequence's first block.
    static let root: UInt64 = 0

    let cache: PagedKVCache
    let blockSize: Int
    let prefixCaching: Bool
    /// Positions the windowed layers' queries read; nil without such layers.
    let window: Int?
    private var references: [Int32]
    private var windowReferences: [Int32]
    private var keys: [Key?]
    private var index: [UInt64: Int32] = [:]
    private var unreferenced: BlockLRU
    /// Cached blocks whose window slot no sequence references.
    private var idleWindowSlots: BlockLRU

    init(cache: PagedKVCache, prefixCaching: Bool) {
        self.cache = cache
        blockSize = cache.blockSize
        self.prefixCaching = prefixCaching
        window = cache.window
        references = [Int32](repeating: 0, count: cache.blockCount)
        windowReferences = references
        keys = [Key?](repeating: nil, count: cache.blockCount)
        unreferenced = BlockLRU(blocks: cache.blockCount)
        idleWindowSlots = BlockLRU(blocks: cache.blockCount)
    }

    var totalBlocks: Int { cache.blockCount }
    var freeBlocks: Int { cache.freeBlocks }
    var cachedBlocks: Int { unreferenced.count }
    var usedBlocks: Int { totalBlocks - freeBlocks - cachedBlocks }
    /// Blocks an allocation can still obtain, by taking a free one or evicting a cached one.
    var obtainableBlocks: Int { freeBlocks + cachedBlocks }

    /// Window slots sequences hold (neither free nor idle).
    var usedWindowSlots: Int { cache.windowSlotCount - obtainableWindowSlots }

    /// Window slots an allocation can still obtain: free ones and idle cached ones.
    var obtainableWindowSlots: Int { cache.freeWindowSlots + idleWindowSlots.count }

    func blocks(for positions: Int) -> Int { (positions + blockSize - 1) / blockSize }

    /// Index of the first block the query at `position` reads in the windowed layers (0 without them).
    func windowStart(at position: Int) -> Int {
        guard let window else { return 0 }
        return max(0, position + 1 - window) / blockSize
    }

    /// A block for one sequence, with a window slot when there are windowed layers: a free one, else
    /// the least recently released cached one (its cache entry dropped); the slot likewise from the
    /// pool or taken from the least recently idled cached block. Nil (nothing taken) when either runs out.
    func allocate() -> Int32? {
        if window != nil, obtainableWindowSlots == 0 { return nil }
        let block: Int32
        if let b = cache.allocate() {
            block = b
        } else if let b = unreferenced.popOldest() {
            index[keys[Int(b)]!.hash] = nil
            keys[Int(b)] = nil
            if idleWindowSlots.contains(b) {
                idleWindowSlots.remove(b)
                cache.detachWindowSlot(from: b)
            }
            block = b
        } else {
            return nil
        }
        references[Int(block)] = 1
        if window != nil {
            if cache.freeWindowSlots == 0, let idle = idleWindowSlots.popOldest() { cache.detachWindowSlot(from: idle) }
            precondition(cache.attachWindowSlot(to: block), "a window slot was obtainable")
            windowReferences[Int(block)] = 1
        }
        return block
    }

    /// Adds one reference to each of `blocks` (prefix hits), taking cached ones out of the LRU, and a
    /// window reference to those from index `windowFrom` on (their slots must be attached).
    func retain(_ blocks: [Int32], windowFrom: Int) {
        for (i, b) in blocks.enumerated() {
            if references[Int(b)] == 0 { unreferenced.remove(b) }
            references[Int(b)] += 1
            guard window != nil, i >= windowFrom else { continue }
            precondition(cache.windowSlot(of: b) != nil, "block \(b) has lost its window slot")
            if idleWindowSlots.contains(b) { idleWindowSlots.remove(b) }
            windowReferences[Int(b)] += 1
        }
    }

    /// Drops one reference to each of `blocks`, and the window reference of those from index
    /// `windowFrom` on. Unreferenced blocks go to the LRU when cached (a table's last blocks first,
    /// so a prefix's tail is evicted before its head), else to the pool.
    func release(_ blocks: [Int32], windowFrom: Int) {
        for (i, b) in blocks.enumerated().reversed() {
            if window != nil, i >= windowFrom { leaveWindow(b) }
            references[Int(b)] -= 1
            precondition(references[Int(b)] >= 0, "block \(b) released twice")
            guard references[Int(b)] == 0 else { continue }
            if keys[Int(b)] != nil {
                unreferenced.append(b)
            } else {
                cache.release([b])
            }
        }
    }

    /// Drops one window reference to each of `blocks` (a sequence's query has moved past them).
    func leaveWindow(_ blocks: ArraySlice<Int32>) {
        for b in blocks { leaveWindow(b) }
    }

    private func leaveWindow(_ b: Int32) {
        windowReferences[Int(b)] -= 1
        precondition(windowReferences[Int(b)] >= 0, "block \(b) left its window twice")
        guard windowReferences[Int(b)] == 0 else { return }
        if keys[Int(b)] != nil {
            idleWindowSlots.append(b)
        } else {
            cache.detachWindowSlot(from: b)
        }
    }

    /// Whether the window slot of `b` is held only for the prefix cache (so taking it removes it
    /// from the obtainable slots).
    func isIdleWindowSlot(_ b: Int32) -> Bool { idleWindowSlots.contains(b) }

    /// Cached blocks holding the longest prefix of `tokens`, at most `limit` full blocks, with each
    /// block's key hash. Takes no references.
    func lookup(_ tokens: [Int], limit: Int) -> [(block: Int32, hash: UInt64)] {
        guard prefixCaching else { return [] }
        var found: [(block: Int32, hash: UInt64)] = []
        var parent = Self.root
        for i in 0..<min(limit, tokens.count / blockSize) {
            let slice = tokens[(i * blockSize)..<((i + 1) * blockSize)]
            let hash = Self.chainHash(parent: parent, tokens: slice)
            guard let b = index[hash], let key = keys[Int(b)], key.parent == parent, key.tokens.elementsEqual(slice) else { break }
            found.append((b, hash))
            parent = hash
        }
        guard window != nil else { return found }
        // A sequence resuming after k blocks reads blocks windowStart(at: k * blockSize)..<k in the
        // windowed layers: cut back to the longest k for which they all have their slots.
        var lastWithout = -1
        var intact = [true]
        for (i, hit) in found.enumerated() {
            if cache.windowSlot(of: hit.block) == nil { lastWithout = i }
            intact.append(lastWithout < windowStart(at: (i + 1) * blockSize))
        }
        return Array(found.prefix(intact.lastIndex(of: true)!))
    }

    /// Whether `b` is cached and unreferenced (so taking it removes it from the obtainable blocks).
    func isIdleCached(_ b: Int32) -> Bool { unreferenced.contains(b) }

    /// Offers the full, computed block `b` holding `tokens` after the prefix keyed `parent`.
    func register(_ b: Int32, parent: UInt64, tokens: ArraySlice<Int>) -> Registration {
        let hash = Self.chainHash(parent: parent, tokens: tokens)
        if let existing = index[hash] {
            if existing == b { return .cached(hash) }
            let key = keys[Int(existing)]!
            return key.parent == parent && key.tokens.elementsEqual(tokens) ? .duplicate(hash) : .collision
        }
        precondition(keys[Int(b)] == nil, "block \(b) cached under two keys")
        index[hash] = b
        keys[Int(b)] = Key(hash: hash, parent: parent, tokens: Array(tokens))
        return .cached(hash)
    }

    /// A 64-bit hash of the parent key and the block's tokens (SplitMix64 mixing), stable across runs.
    static func chainHash(parent: UInt64, tokens: ArraySlice<Int>) -> UInt64 {
        var h = mix(parent ^ 0x243F_6A88_85A3_08D3)
        for t in tokens { h = mix(h ^ UInt64(bitPattern: Int64(t))) }
        return mix(h &+ UInt64(tokens.count))
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
