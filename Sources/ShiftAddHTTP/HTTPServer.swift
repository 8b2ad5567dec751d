import CShiftAddHTTP

/// Receives complete requests from an `HTTPServer`.
public protocol HTTPRequestHandler: AnyObject, Sendable {
    /// Called on the loop thread for each complete request (headers + whole body); must not block.
    func handle(_ request: HTTPRequest, responder: HTTPResponder)
    /// The client went away (connection closed, RST_STREAM) before the response finished.
    func cancelled(_ id: HTTPRequestID)
}

public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Counters of the front end, for /metrics.
public struct HTTPStatistics: Sendable {
    public let openConnections: Int
    public let acceptedConnections: Int
    public let refusedConnections: Int
    /// Requests the front end refused itself (malformed, too large) and HTTP/2 connections ended
    /// by a GOAWAY with an error.
    public let protocolErrors: Int
    /// RST_STREAM frames received from clients.
    public let streamResets: Int
    /// Requests handed to the handler whose response is not complete yet.
    public let openRequests: Int

    public init(openConnections: Int, acceptedConnections: Int, refusedConnections: Int, protocolErrors: Int,
                streamResets: Int, openRequests: Int) {
        self.openConnections = openConnections
        self.acceptedConnections = acceptedConnections
        self.refusedConnections = refusedConnections
        self.protocolErrors = protocolErrors
        self.streamResets = streamResets
        self.openRequests = openRequests
    }
}

/// HTTP/1.1, h2c and TLS (h2, http/1.1) served by one loop thread.
public final class HTTPServer: Sendable {
    private let core: ServerCore
    /// The bound cleartext port.
    public let port: Int
    /// The bound TLS port, if any.
    public let tlsPort: Int?

    /// Binds the listeners; throws `HTTPServerError` when a port is taken or the certificate fails.
    public init(options: HTTPServerOptions, handler: any HTTPRequestHandler) throws {
        core = try ServerCore(options: options, handler: handler)
        port = Int(sa_http_server_port(core.raw))
        let tls = Int(sa_http_server_tls_port(core.raw))
        tlsPort = tls >= 0 ? tls : nil
    }

    deinit {
        _ = sa_http_server_stop(core.raw)
    }

    /// Starts the loop thread; later calls do nothing.
    public func start() {
        core.start()
    }

    /// Stops accepting, sends GOAWAY on HTTP/2, closes idle HTTP/1.1 connections; requests in flight continue.
    public func drain() {
        sa_http_server_drain(core.raw)
    }

    /// Closes everything (requests in flight get `cancelled`) and joins the loop thread.
    /// Must not be called from the handler's callbacks.
    public func stop() {
        _ = sa_http_server_stop(core.raw)
    }

    public func statistics() -> HTTPStatistics {
        var stats = sa_http_stats()
        sa_http_server_stats(core.raw, &stats)
        return HTTPStatistics(openConnections: Int(stats.open_connections),
                              acceptedConnections: Int(stats.accepted_connections),
                              refusedConnections: Int(stats.refused_connections),
                              protocolErrors: Int(stats.protocol_errors),
                              streamResets: Int(stats.stream_resets),
                              openRequests: Int(stats.open_requests))
    }
}
