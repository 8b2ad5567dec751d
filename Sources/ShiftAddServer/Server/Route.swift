/// The API's routes: a path (or path prefix), the one method it takes, and whether it needs the
/// API key.
enum Route: String, CaseIterable, Sendable {
    case completions = "/v1/completions"
    case chatCompletions = "/v1/chat/completions"
    case models = "/v1/models"
    case model = "/v1/models/{model}"
    case tokenize = "/tokenize"
    case detokenize = "/detokenize"
    case tokenizerInfo = "/tokenizer_info"
    case live = "/live"
    case health = "/health"
    case ready = "/ready"
    case metrics = "/metrics"

    /// Metrics label of requests that match no route.
    static let unknownLabel = "unknown"
    static let modelPrefix = "/v1/models/"

    static func match(path: String) -> Route? {
        if let route = Route(rawValue: path), route != .model { return route }
        if path.hasPrefix(modelPrefix), path.count > modelPrefix.count { return .model }
        return nil
    }

    var method: String {
        switch self {
        case .completions, .chatCompletions, .tokenize, .detokenize: "POST"
        case .models, .model, .tokenizerInfo, .live, .health, .ready, .metrics: "GET"
        }
    }

    /// Probes and metrics stay reachable without a key.
    var isOpen: Bool {
        switch self {
        case .live, .health, .ready, .metrics: true
        default: false
        }
    }
}
