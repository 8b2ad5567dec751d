/// Keys and values of many sequences in fixed-size blocks from one pool. A sequence holds a block
/// table (pool block per `blockSize` positions); blocks return to the pool when released.
///
/// Storage per layer is [blocks][blockSize][kvDim] fp16 for keys and the same for values: decoding
/// many sequences at once reads their whole caches every step, so the cache's bytes, not the
/// arithmetic, bound batched attention. Not thread-safe: the engine's single owner allocates and
/// releases.
public final class PagedKVCache {
    public let blockSize: Int
    public let blockCount: Int
    let layers: Int
    let kvDim: Int
    /// [layer] → pool storage for that layer, fp16 bit patterns.
    var keys: [UnsafeMutablePointer<UInt16>]
    var values: [UnsafeMutablePointer<UInt16>]
    private var free: [Int32]

    /// Bytes of one cached value.
    static let elementBytes = MemoryLayout<UInt16>.size

    public init(layers: Int, kvDim: Int, blockSize: Int = 16, blockCount: Int) {
        precondition(blockSize > 0 && blockCount > 0)
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.layers = layers
        self.kvDim = kvDim
        let perLayer = blockCount * blockSize * kvDim
        keys = (0..<layers).map { _ in
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: perLayer)
            p.initialize(repeating: 0, count: perLayer)
            return p
        }
        values = (0..<layers).map { _ in
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: perLayer)
            p.initialize(repeating: 0, count: perLayer)
            return p
        }
        free = (0..<Int32(blockCount)).reversed()
    }

    /// Bytes of one block across all layers (keys and values) for a model of `layers` layers and
    /// `kvDim` key (and value) elements per position.
    public static func bytesPerBlock(layers: Int, kvDim: Int, blockSize: Int) -> Int {
        2 * layers * blockSize * kvDim * elementBytes
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public var freeBlocks: Int { free.count }

    /// Bytes of one block across all layers (keys and values).
    public var bytesPerBlock: Int { Self.bytesPerBlock(layers: layers, kvDim: kvDim, blockSize: blockSize) }

    /// Takes one block from the pool, or nil when it is exhausted.
    public func allocate() -> Int32? { free.popLast() }

    public func release(_ blocks: [Int32]) {
        free.append(contentsOf: blocks.reversed())
    }

    /// Where position `position` of a sequence with `table` lives in layer storage, in elements.
    func offset(table: [Int32], position: Int) -> Int {
        (Int(table[position / blockSize]) * blockSize + position % blockSize) * kvDim
    }
}

/// One sequence's view of the paged cache: its block table and how many positions are filled.
public final class PagedSequence {
    public private(set) var blocks: [Int32] = []
    public private(set) var count = 0
    let cache: PagedKVCache

    public init(cache: PagedKVCache) {
        self.cache = cache
    }

    deinit { cache.release(blocks) }

    /// Makes room for `n` more positions; false (and nothing taken) if the pool cannot supply it.
    public func reserve(_ n: Int) -> Bool {
        let needed = (count + n + cache.blockSize - 1) / cache.blockSize - blocks.count
        guard needed > 0 else { return true }
        guard cache.freeBlocks >= needed else { return false }
        for _ in 0..<needed { blocks.append(cache.allocate()!) }
        return true
    }

    /// Forgets every position and returns the blocks to the pool.
    public func reset() {
        cache.release(blocks)
        blocks = []
        count = 0
    }

    func advance(by n: Int) {
        precondition(count + n <= blocks.count * cache.blockSize)
        count += n
    }
}
