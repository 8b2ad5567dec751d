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
    public let preemptions: Int
    public let rejections: Int
    public let steps: Int

    public init(queued: Int, running: Int, kvBlocksTotal: Int, kvBlocksUsed: Int, kvBlocksCached: Int, kvBlocksFree: Int,
                preemptions: Int, rejections: Int, steps: Int) {
        self.queued = queued
        self.running = running
        self.kvBlocksTotal = kvBlocksTotal
        self.kvBlocksUsed = kvBlocksUsed
        self.kvBlocksCached = kvBlocksCached
        self.kvBlocksFree = kvBlocksFree
        self.preemptions = preemptions
        self.rejections = rejections
        self.steps = steps
    }
}
