/// A snapshot of the scheduler, for metrics and tests. Block counts are as of the last step.
public struct SchedulerStats: Sendable, Equatable {
    /// Requests waiting to join the batch (preempted ones included).
    public let queued: Int
    /// Sequences in the batch.
    public let running: Int
    public let kvBlocksTotal: Int
    /// Blocks held by sequences.
    public let kvBlocksUsed: Int
    /// Unreferenced blocks kept for the prefix cache (reclaimable).
    public let kvBlocksCached: Int
    /// Blocks in neither use.
    public let kvBlocksFree: Int
    /// Window slots of the sliding-window layers (`PagedKVCache`); 0 in models without them.
    public let kvWindowSlotsTotal: Int
    /// Slots sequences still read (the rest are free, or idle but kept for the prefix cache).
    public let kvWindowSlotsUsed: Int
    public let kvWindowSlotsFree: Int
    public let preemptions: Int
    public let rejections: Int
    public let steps: Int

    /// How full the cache is, 0 to 1: the fuller of the block pool and the window slot pool, by
    /// what sequences hold (prefix-cache entries are reclaimable, so they do not count).
    public var kvCacheUsage: Double {
        let blocks = kvBlocksTotal > 0 ? Double(kvBlocksUsed) / Double(kvBlocksTotal) : 0
        let slots = kvWindowSlotsTotal > 0 ? Double(kvWindowSlotsUsed) / Double(kvWindowSlotsTotal) : 0
        return max(blocks, slots)
    }

    public init(queued: Int, running: Int, kvBlocksTotal: Int, kvBlocksUsed: Int, kvBlocksCached: Int, kvBlocksFree: Int,
                kvWindowSlotsTotal: Int = 0, kvWindowSlotsUsed: Int = 0, kvWindowSlotsFree: Int = 0,
                preemptions: Int, rejections: Int, steps: Int) {
        self.queued = queued
        self.running = running
        self.kvBlocksTotal = kvBlocksTotal
        self.kvBlocksUsed = kvBlocksUsed
        self.kvBlocksCached = kvBlocksCached
        self.kvBlocksFree = kvBlocksFree
        self.kvWindowSlotsTotal = kvWindowSlotsTotal
        self.kvWindowSlotsUsed = kvWindowSlotsUsed
        self.kvWindowSlotsFree = kvWindowSlotsFree
        self.preemptions = preemptions
        self.rejections = rejections
        self.steps = steps
    }
}
