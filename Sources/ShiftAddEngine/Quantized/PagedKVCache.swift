/// Keys and values of many sequences in fixed-size blocks from one pool. A sequence holds a block
/// table (pool block per `blockSize` positions); blocks return to the pool when released.
///
/// Storage per layer is [blocks][blockSize][kvDim] fp16 for keys and the same for values: decoding
/// many sequences at once reads their whole caches every step, so the cache's bytes, not the
/// arithmetic, bound batched attention.
///
/// Layers that attend only to a sliding window (Gemma 3's local layers) read at most the last
/// `window` positions, so holding a long sequence's every block in them would waste most of their
/// storage. They keep a second, smaller pool of window slots instead: a block that still has
/// positions some query may read is attached to a slot, where those layers store its keys and
/// values; the owner detaches the slot once no query will read the block there. A block's
/// storage in the other layers is unaffected. Without windowed layers there are no slots.
///
/// Not thread-safe: the engine's single owner allocates and releases.
public final class PagedKVCache {
    public let blockSize: Int
    public let blockCount: Int
    /// Positions a query of a windowed layer reads, itself included; nil when no layer is windowed.
    public let window: Int?
    /// Window slots in the pool (0 without windowed layers).
    public let windowSlotCount: Int
    let layers: Int
    let kvDim: Int
    /// [layer] → whether its storage is indexed by window slot instead of by block.
    let windowed: [Bool]
    /// [layer] → pool storage for that layer, fp16 bit patterns.
    var keys: [UnsafeMutablePointer<UInt16>]
    var values: [UnsafeMutablePointer<UInt16>]
    private var free: [Int32]
    private var freeSlots: [Int32]
    /// [block] → its window slot, or -1.
    private(set) var slotOfBlock: [Int32]

    /// Bytes of one cached value.
    static let elementBytes = MemoryLayout<UInt16>.size

    /// `windowedLayers` attend to the last `window` positions only and keep `windowSlots` slots
    /// (by default one per block).
    public init(layers: Int, kvDim: Int, blockSize: Int = 16, blockCount: Int, window: Int? = nil,
                windowedLayers: Set<Int> = [], windowSlots: Int? = nil) {
        precondition(blockSize > 0 && blockCount > 0)
        precondition((window == nil) == windowedLayers.isEmpty && (window ?? 1) > 0, "a window needs its layers")
        precondition(windowedLayers.allSatisfy { (0..<layers).contains($0) })
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.window = window
        let slotCount = window == nil ? 0 : windowSlots ?? blockCount
        windowSlotCount = slotCount
        self.layers = layers
        self.kvDim = kvDim
        windowed = (0..<layers).map { windowedLayers.contains($0) }
        func storage(_ l: Int) -> UnsafeMutablePointer<UInt16> {
            let count = (windowedLayers.contains(l) ? slotCount : blockCount) * blockSize * kvDim
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            return p
        }
        keys = (0..<layers).map(storage)
        values = (0..<layers).map(storage)
        free = (0..<Int32(blockCount)).reversed()
        freeSlots = (0..<Int32(slotCount)).reversed()
        slotOfBlock = [Int32](repeating: -1, count: blockCount)
    }

    /// Bytes of one block across `layers` layers (keys and values) for a model of `kvDim` key (and
    /// value) elements per position; the same for one window slot across the windowed layers.
    public static func bytesPerBlock(layers: Int, kvDim: Int, blockSize: Int) -> Int {
        2 * layers * blockSize * kvDim * elementBytes
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public var freeBlocks: Int { free.count }
    public var freeWindowSlots: Int { freeSlots.count }

    /// Bytes of one block across the whole-context layers (keys and values).
    public var bytesPerBlock: Int {
        Self.bytesPerBlock(layers: windowed.count { !$0 }, kvDim: kvDim, blockSize: blockSize)
    }

    /// Bytes of one window slot across the windowed layers (keys and values).
    public var bytesPerWindowSlot: Int {
        Self.bytesPerBlock(layers: windowed.count { $0 }, kvDim: kvDim, blockSize: blockSize)
    }

    /// Takes one block from the pool, or nil when it is exhausted.
    public func allocate() -> Int32? { free.popLast() }

    /// Returns blocks to the pool, with their window slots.
    public func release(_ blocks: [Int32]) {
        for b in blocks where slotOfBlock[Int(b)] >= 0 { detachWindowSlot(from: b) }
        free.append(contentsOf: blocks.reversed())
    }

    /// The window slot holding `block` in the windowed layers, if it has one.
    public func windowSlot(of block: Int32) -> Int32? {
        let s = slotOfBlock[Int(block)]
        return s >= 0 ? s : nil
    }

    /// Gives `block` a window slot from the pool; false when the pool is exhausted.
    public func attachWindowSlot(to block: Int32) -> Bool {
        precondition(slotOfBlock[Int(block)] < 0, "block \(block) already has a window slot")
        guard let s = freeSlots.popLast() else { return false }
        slotOfBlock[Int(block)] = s
        return true
    }

    /// Returns `block`'s window slot to the pool; the windowed layers no longer hold the block.
    public func detachWindowSlot(from block: Int32) {
        let s = slotOfBlock[Int(block)]
        precondition(s >= 0, "block \(block) has no window slot")
        slotOfBlock[Int(block)] = -1
        freeSlots.append(s)
    }

    /// Where position `position` of a sequence with `table` lives in a whole-context layer's
    /// storage, in elements.
    func offset(table: [Int32], position: Int) -> Int {
        (Int(table[position / blockSize]) * blockSize + position % blockSize) * kvDim
    }

    /// Where position `position` of a sequence with `table` lives in a windowed layer's storage,
    /// in elements; its block must hold a window slot.
    func windowOffset(table: [Int32], position: Int) -> Int {
        let s = slotOfBlock[Int(table[position / blockSize])]
        precondition(s >= 0, "position \(position) is outside the window storage")
        return (Int(s) * blockSize + position % blockSize) * kvDim
    }
}

/// One sequence's view of the paged cache: its block table and how many positions are filled.
/// Every block it holds keeps a window slot, so its cache needs as many slots as blocks.
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
        guard cache.freeBlocks >= needed, cache.window == nil || cache.freeWindowSlots >= needed else { return false }
        for _ in 0..<needed {
            let b = cache.allocate()!
            if cache.window != nil { _ = cache.attachWindowSlot(to: b) }
            blocks.append(b)
        }
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
