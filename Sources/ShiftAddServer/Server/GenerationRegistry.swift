import ShiftAddHTTP
import ShiftAddScheduler
import Synchronization

/// The generations in flight by HTTP request, so a client that goes away cancels its own. Entries
/// are added before submission and get their generation id after it, so an event stream that
/// finishes before `submit` returns cannot leave an entry behind.
final class GenerationRegistry: Sendable {
    struct Entry: Sendable {
        let exchange: Exchange
        var generation: GenerationID?
    }

    private let entries = Mutex<[HTTPRequestID: Entry]>([:])

    var count: Int { entries.withLock { $0.count } }

    func add(_ id: HTTPRequestID, exchange: Exchange) {
        entries.withLock { $0[id] = Entry(exchange: exchange, generation: nil) }
    }

    /// Records the submitted generation, unless it already finished and was removed.
    func setGeneration(_ id: HTTPRequestID, _ generation: GenerationID) {
        entries.withLock { e in e[id]?.generation = generation }
    }

    @discardableResult
    func remove(_ id: HTTPRequestID) -> Entry? {
        entries.withLock { $0.removeValue(forKey: id) }
    }
}
