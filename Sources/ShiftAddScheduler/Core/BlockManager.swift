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
    private var references: [Int32]
    private var keys: [Key?]
    private var index: [UInt64: Int32] = [:]
    private var unreferenced: BlockLRU

    init(cache: PagedKVCache, prefixCaching: Bool) {
        self.cache = cache
        blockSize = cache.blockSize
        self.prefixCaching = prefixCaching
        references = [Int32](repeating: 0, count: cache.blockCount)
        keys = [Key?](repeating: nil, count: cache.blockCount)
        unreferenced = BlockLRU(blocks: cache.blockCount)
    }

    var totalBlocks: Int { cache.blockCount }
    var freeBlocks: Int { cache.freeBlocks }
    var cachedBlocks: Int { unreferenced.count }
    var usedBlocks: Int { totalBlocks - freeBlocks - cachedBlocks }
    /// Blocks an allocation can still obtain, by taking a free one or evicting a cached one.
    var obtainableBlocks: Int { freeBlocks + cachedBlocks }

    func blocks(for positions: Int) -> Int { (positions + blockSize - 1) / blockSize }

    /// A block for one sequence: a free one, else the least recently released cached one (its
    /// cache entry dropped); nil when every block is in use.
    func allocate() -> Int32? {
        let block: Int32
        if let b = cache.allocate() {
            block = b
        } else if let b = unreferenced.popOldest() {
            index[keys[Int(b)]!.hash] = nil
            keys[Int(b)] = nil
            block = b
        } else {
            return nil
        }
        references[Int(block)] = 1
        return block
    }

    /// Adds one reference to each of `blocks` (prefix hits), taking cached ones out of the LRU.
    func retain(_ blocks: [Int32]) {
        for b in blocks {
            if references[Int(b)] == 0 { unreferenced.remove(b) }
            references[Int(b)] += 1
        }
    }

    /// Drops one reference to each of `blocks`. Unreferenced blocks go to the LRU when cached
    /// (a table's last blocks first, so a prefix's tail is evicted before its head), else to the pool.
    func release(_ blocks: [Int32]) {
        for b in blocks.reversed() {
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
        return found
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
