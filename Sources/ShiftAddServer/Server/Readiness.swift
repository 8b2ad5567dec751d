/// Whether the server takes work: not before the model is ready, not while draining.
enum Readiness: Sendable {
    case starting
    case ready
    case draining

    var error: APIError? {
        switch self {
        case .ready: nil
        case .starting: .unavailable("the server is not ready yet", code: "not_ready")
        case .draining: .unavailable("the server is shutting down", code: "draining")
        }
    }
}
