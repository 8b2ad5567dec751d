/// What the scheduler reports for metrics. Delivered on the engine thread (rejections on the
/// submitting thread): handlers must be cheap.
public enum SchedulerEvent: Sendable {
    case rejected(AdmissionError)
    /// A request joined the batch for the first time, this long after submit.
    case admitted(queueSeconds: Double)
    /// Since submit.
    case firstToken(seconds: Double)
    /// Between two tokens of the same request.
    case interToken(seconds: Double)
    case finished(GenerationSummary)
    /// A running sequence gave up its blocks to make room; it recomputes later.
    case preempted
    /// One engine step: tokens computed, sequences in the batch, wall time.
    case step(tokens: Int, sequences: Int, seconds: Double)
}
