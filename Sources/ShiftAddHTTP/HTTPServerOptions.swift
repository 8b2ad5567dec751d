/// Addresses and limits of an `HTTPServer`.
public struct HTTPServerOptions: Sendable {
    public var host = "127.0.0.1"
    /// Cleartext port (HTTP/1.1 and h2c with prior knowledge); 0 = any free port.
    public var port = 8080
    /// TLS port (h2 and http/1.1 by ALPN); needs `certificateFile` and `keyFile`. 0 = any free port.
    public var tlsPort: Int? = nil
    public var certificateFile: String? = nil
    public var keyFile: String? = nil
    /// Request line and header fields; larger heads get 431.
    public var maxHeaderBytes = 16 * 1024
    /// Request bodies; larger ones get 413 and are never buffered past this.
    public var maxBodyBytes = 4 * 1024 * 1024
    /// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS.
    public var maxConcurrentStreams = 128
    /// Connections past this are accepted and closed at once (HTTP/1.1 clients read a 503).
    public var maxConnections = 1024
    /// Time allowed for a request head (and a TLS handshake) to arrive.
    public var headerTimeout: Duration = .seconds(10)
    /// Time a connection without a request in flight may stay silent.
    public var idleTimeout: Duration = .seconds(60)
    /// Response bytes queued for one connection that its client has not read; past it, the stream
    /// (HTTP/2) or the connection (HTTP/1.1) is cancelled.
    public var maxOutputBytesPerConnection = 8 * 1024 * 1024
    /// RST_STREAM frames one HTTP/2 client may send per `streamResetWindow` before GOAWAY
    /// (ENHANCE_YOUR_CALM): the rapid-reset defence.
    public var maxStreamResets = 200
    public var streamResetWindow: Duration = .seconds(10)

    public init() {}
}
