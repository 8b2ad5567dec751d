/// A validated request on its way from `Scheduler.submit` to the engine thread.
struct Submission: Sendable {
    let id: GenerationID
    let prompt: [Int]
    let request: GenerationRequest
    /// The request's seed, or one drawn at submit when it had none, so a preempted sequence's
    /// sampler continues the same stream.
    let seed: UInt64
    /// Another choice of the same request whose prompt this one waits for, to find it in the prefix cache.
    let leader: GenerationID?
    let submitted: ContinuousClock.Instant
    let events: @Sendable (GenerationEvent) -> Void
}

/// What callers and the engine thread exchange, always under the scheduler's lock.
struct Mailbox: Sendable {
    var incoming: [Submission] = []
    var cancellations: Set<GenerationID> = []
    var shuttingDown = false
    /// Set by the engine thread as it exits.
    var stopped = false
    var nextID: UInt64 = 1
    var rejections = 0
    /// Requests waiting inside the engine (preempted ones included), as of its last step.
    var engineQueued = 0
    /// The engine's view after its last step; `queued` and `rejections` are filled in live.
    var snapshot: SchedulerStats

    /// Anything for the engine to pick up.
    var hasMail: Bool { !incoming.isEmpty || !cancellations.isEmpty || shuttingDown }
}
