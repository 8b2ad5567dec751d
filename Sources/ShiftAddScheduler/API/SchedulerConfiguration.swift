/// Limits of the scheduler. Zero or negative values are invalid (`Scheduler.init` throws `SchedulerError`).
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Tokens per engine step, decode and prefill together (at most the model's `maxBatchTokens`).
    public var maxBatchTokens = 512
    /// Most prompt tokens per step while other sequences are decoding: a long prompt then arrives in
    /// small chunks, so the running streams' inter-token latency stays near its usual value. Within
    /// this ceiling the engine sizes each chunk by measurement (`PrefillPacer`: a step that also
    /// computes prompt tokens should take at most 1.5× a decode-only step). With nothing decoding,
    /// prefill uses the whole `maxBatchTokens`.
    public var prefillTokensWhileDecoding = 64
    /// Sequences in the batch at once; capped at `maxBatchTokens` (each decodes one token per step).
    public var maxRunning = 64
    /// Requests waiting for the batch; more are rejected as overloaded.
    public var maxQueued = 256
    /// KV cache pool size (blocks, and window slots for sliding-window layers; see Docs/scheduler.md).
    /// nil = enough for `maxRunning` full contexts, but at most a quarter of memory
    /// (`MemoryLimit.current`: physical, or a lower cgroup limit) or 1 GiB, and never less than one
    /// full context.
    public var kvCacheBytes: Int? = nil
    /// Positions per KV block (and per prefix-cache entry).
    public var blockSize = 16
    /// Share and keep the blocks of identical prompt prefixes.
    public var prefixCaching = true
    /// Positions per sequence, prompt and output together. nil = the model's context; larger values are capped to it.
    public var contextLength: Int? = nil

    public init() {}
}
