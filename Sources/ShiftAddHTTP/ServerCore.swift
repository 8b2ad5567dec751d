import CShiftAddHTTP

/// Owns the C server handle. Responders keep it alive, so a response submitted after the
/// `HTTPServer` is gone reaches a stopped server (and is dropped) rather than freed memory.
final class ServerCore: @unchecked Sendable {
    // The C server is thread-safe for every call made through this handle.
    let raw: OpaquePointer
    let handler: any HTTPRequestHandler

    init(options: HTTPServerOptions, handler: any HTTPRequestHandler) throws {
        self.handler = handler
        var c = sa_http_options()
        sa_http_options_init(&c)
        c.port = Int32(clamping: options.port)
        c.tls_port = Int32(clamping: options.tlsPort ?? -1)
        c.max_header_bytes = max(0, options.maxHeaderBytes)
        c.max_body_bytes = max(0, options.maxBodyBytes)
        c.max_concurrent_streams = UInt32(clamping: options.maxConcurrentStreams)
        c.max_connections = Int32(clamping: options.maxConnections)
        c.header_timeout_ms = milliseconds(options.headerTimeout)
        c.idle_timeout_ms = milliseconds(options.idleTimeout)
        c.max_output_bytes = max(0, options.maxOutputBytesPerConnection)
        c.max_stream_resets = UInt32(clamping: options.maxStreamResets)
        c.stream_reset_window_ms = milliseconds(options.streamResetWindow)
        var server: OpaquePointer?
        var message = [CChar](repeating: 0, count: 512)
        let status = options.host.withCString { host in
            (options.certificateFile ?? "").withCString { certificate in
                (options.keyFile ?? "").withCString { key in
                    c.host = host
                    c.certificate_file = options.certificateFile == nil ? nil : certificate
                    c.key_file = options.keyFile == nil ? nil : key
                    return sa_http_server_create(&c, &server, &message, message.count)
                }
            }
        }
        guard status == 0, let server else {
            let text = message.withUnsafeBufferPointer { buffer in
                String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            throw HTTPServerError(message: text)
        }
        raw = server
    }

    deinit {
        sa_http_server_destroy(raw)
    }

    func start() {
        var callbacks = sa_http_callbacks(on_request: onRequest, on_cancel: onCancel,
                                          context: Unmanaged.passUnretained(self).toOpaque())
        _ = sa_http_server_start(raw, &callbacks)
    }
}

private func milliseconds(_ duration: Duration) -> UInt32 {
    let (seconds, attoseconds) = duration.components
    let total = max(0, seconds) * 1000 + max(0, attoseconds) / 1_000_000_000_000_000
    return UInt32(clamping: total)
}

private func text(_ pointer: UnsafePointer<CChar>?, _ count: Int) -> String {
    guard let pointer, count > 0 else { return "" }
    return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
        String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
    }
}

// The context is the ServerCore, kept alive by its HTTPServer until the loop thread is joined.
private func onRequest(_ context: UnsafeMutableRawPointer?, _ request: UnsafePointer<sa_http_request>?) {
    guard let context, let r = request?.pointee else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(context).takeUnretainedValue()
    var headers: [(name: String, value: String)] = []
    headers.reserveCapacity(r.header_count)
    for index in 0..<r.header_count {
        let field = r.headers[index]
        headers.append((name: text(field.name, field.name_len), value: text(field.value, field.value_len)))
    }
    let body = r.body_len > 0 && r.body != nil ? Array(UnsafeBufferPointer(start: r.body, count: r.body_len)) : []
    let id = HTTPRequestID(rawValue: r.id)
    let request = HTTPRequest(id: id, method: text(r.method, r.method_len), target: text(r.target, r.target_len),
                              headers: headers, body: body,
                              version: r.version == Int32(SA_HTTP_VERSION_2) ? .http2 : .http1_1,
                              secure: r.secure != 0, remoteAddress: r.peer.map { String(cString: $0) } ?? "")
    core.handler.handle(request, responder: HTTPResponder(id: id, core: core))
}

private func onCancel(_ context: UnsafeMutableRawPointer?, _ id: UInt64) {
    guard let context else { return }
    Unmanaged<ServerCore>.fromOpaque(context).takeUnretainedValue().handler.cancelled(HTTPRequestID(rawValue: id))
}
