import Foundation

/// A value behind a lock with a condition to wait on: the state callers and the engine thread share.
///
/// `@unchecked Sendable` because the compiler cannot see the lock: `state` is only read or written
/// inside `withLock` and `wait`, which hold `condition`, and `State` itself is `Sendable`.
final class Locked<State: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var state: State

    init(_ state: State) { self.state = state }

    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(&state)
    }

    /// Like `withLock`, and wakes every waiter afterwards.
    func update<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&state)
    }

    /// Waits until `ready` holds (or, with a timeout, until it passes), then runs `body` under the lock.
    func wait<R>(until ready: (State) -> Bool, timeout: Duration? = nil, then body: (inout State) -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        if let timeout {
            let limit = Date(timeIntervalSinceNow: timeout.seconds)
            while !ready(state), condition.wait(until: limit) {}
        } else {
            while !ready(state) { condition.wait() }
        }
        return body(&state)
    }
}
