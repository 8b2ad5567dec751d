/// Cross-origin access for browsers: off unless origins are configured; `*` allows any origin.
struct CORSPolicy: Sendable {
    let origins: Set<String>

    static let allowedMethods = "GET, POST, OPTIONS"
    static let allowedHeaders = "authorization, content-type, x-api-key, x-request-id"
    static let maxAgeSeconds = 600

    init(origins: [String]) { self.origins = Set(origins) }

    /// Headers for a response to a request from `origin`; none when it is not allowed.
    func headers(origin: String?) -> [(String, String)] {
        guard let origin, origins.contains("*") || origins.contains(origin) else { return [] }
        return [
            ("access-control-allow-origin", origins.contains("*") ? "*" : origin),
            ("access-control-expose-headers", "x-request-id"),
            ("vary", "origin"),
        ]
    }

    /// What a preflight (`OPTIONS` from an allowed `Origin`) adds to `headers(origin:)`.
    func preflightHeaders(origin: String?) -> [(String, String)] {
        guard !headers(origin: origin).isEmpty else { return [] }
        return [
            ("access-control-allow-methods", Self.allowedMethods),
            ("access-control-allow-headers", Self.allowedHeaders),
            ("access-control-max-age", String(Self.maxAgeSeconds)),
        ]
    }
}
