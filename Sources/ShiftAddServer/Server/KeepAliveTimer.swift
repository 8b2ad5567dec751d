import Dispatch

/// Calls `tick` every `interval` seconds on a background queue until cancelled; used to send SSE
/// comments while a stream has nothing else to say (a long prefill before the first token).
final class KeepAliveTimer: @unchecked Sendable {
    /// Shared by every stream: ticks only take a lock and enqueue a few bytes.
    private static let queue = DispatchQueue(label: "shiftadd.keep-alive")
    /// Only `cancel` touches the source after init; DispatchSource itself is thread-safe.
    private let source: DispatchSourceTimer

    init(interval: Double, tick: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: Self.queue)
        let nanoseconds = Int(max(interval, 0.001) * 1e9)
        source.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        source.setEventHandler(handler: tick)
        source.resume()
    }

    func cancel() { source.cancel() }
}
