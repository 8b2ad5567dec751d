import ShiftAddHTTP
import ShiftAddScheduler
import Synchronization

/// The generations in flight by HTTP request, so a client that goes away cancels its own. Entries
/// are added when the request arrives and get their generation id after submission, so an event
/// stream that finishes before `submit` returns cannot leave an entry behind, and a client that
/// leaves before its request is submitted is noticed.
final class GenerationRegistry: Sendable {
    struct Entry: Sendable {
        let exchange: Exchange
        /// The request's generations (one per choice), empty until submitted.
        var generations: [GenerationID]
    }

    private let entries = Mutex<[HTTPRequestID: Entry]>([:])

    var count: Int { entries.withLock { $0.count } }

    func add(_ id: HTTPRequestID, exchange: Exchange) {
        entries.withLock { $0[id] = Entry(exchange: exchange, generations: []) }
    }

    func contains(_ id: HTTPRequestID) -> Bool {
        entries.withLock { $0[id] != nil }
    }

    /// Records the submitted generations; false when the entry is gone (they already finished, or
    /// the client left).
    func setGenerations(_ id: HTTPRequestID, _ generations: [GenerationID]) -> Bool {
        entries.withLock { e in
            guard e[id] != nil else { return false }
            e[id]?.generations = generations
            return true
        }
    }

    @discardableResult
    func remove(_ id: HTTPRequestID) -> Entry? {
        entries.withLock { $0.removeValue(forKey: id) }
    }
}
