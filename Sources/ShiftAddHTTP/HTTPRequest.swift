/// Opaque name of one request, unique for the life of a server.
public struct HTTPRequestID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { String(rawValue) }
}

public enum HTTPVersion: Sendable {
    /// HTTP/1.1, and HTTP/1.0 requests.
    case http1_1
    case http2
}

/// A complete request: head and whole body, copied out of the front end.
public struct HTTPRequest: Sendable {
    public let id: HTTPRequestID
    /// "GET", "POST", ...
    public let method: String
    /// Path and query as sent.
    public let target: String
    /// Field names are lowercased; on HTTP/2 the `:authority` pseudo-header appears as `host`.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    public let version: HTTPVersion
    /// The request arrived over TLS.
    public let secure: Bool
    /// "address:port" of the client.
    public let remoteAddress: String

    public init(id: HTTPRequestID, method: String, target: String, headers: [(name: String, value: String)],
                body: [UInt8], version: HTTPVersion, secure: Bool, remoteAddress: String) {
        self.id = id
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.version = version
        self.secure = secure
        self.remoteAddress = remoteAddress
    }

    /// The target without its query.
    public var path: String {
        guard let mark = target.firstIndex(of: "?") else { return target }
        return String(target[..<mark])
    }

    /// First value of the field `name` (compared case-insensitively).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }
}
