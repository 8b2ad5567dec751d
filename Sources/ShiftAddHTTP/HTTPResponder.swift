import CShiftAddHTTP

/// Answers one request. Thread-safe: every call may come from any thread. Calls after the request
/// was cancelled or finished are ignored.
public struct HTTPResponder: Sendable {
    public let id: HTTPRequestID
    let core: ServerCore

    init(id: HTTPRequestID, core: ServerCore) {
        self.id = id
        self.core = core
    }

    /// A whole response; the front end sets content-length.
    public func respond(status: Int, headers: [(String, String)], body: [UInt8]) {
        withCHeaders(headers) { fields in
            body.withUnsafeBufferPointer { bytes in
                _ = sa_http_respond(core.raw, id.rawValue, Int32(clamping: status), fields.baseAddress, fields.count,
                                    bytes.baseAddress, bytes.count)
            }
        }
    }

    /// The head of a streamed response: chunked encoding on HTTP/1.1, DATA frames on HTTP/2.
    public func startStream(status: Int, headers: [(String, String)]) {
        withCHeaders(headers) { fields in
            _ = sa_http_stream_start(core.raw, id.rawValue, Int32(clamping: status), fields.baseAddress, fields.count)
        }
    }

    /// Body bytes of a streamed response; they reach the client as soon as it can take them.
    public func send(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer { buffer in
            _ = sa_http_stream_send(core.raw, id.rawValue, buffer.baseAddress, buffer.count)
        }
    }

    /// Ends a streamed response.
    public func finish() {
        _ = sa_http_stream_finish(core.raw, id.rawValue)
    }
}

/// Lends `headers` to C as an array of sa_http_header pointing into contiguous UTF-8 copies.
private func withCHeaders<R>(_ headers: [(String, String)], _ body: (UnsafeBufferPointer<sa_http_header>) -> R) -> R {
    var storage: [UInt8] = []
    var ranges: [(Int, Int, Int, Int)] = []
    for (name, value) in headers {
        let nameStart = storage.count
        storage.append(contentsOf: name.utf8)
        let valueStart = storage.count
        storage.append(contentsOf: value.utf8)
        ranges.append((nameStart, valueStart - nameStart, valueStart, storage.count - valueStart))
    }
    return storage.withUnsafeBufferPointer { bytes in
        let base = UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self)
        let fields = ranges.map { range in
            sa_http_header(name: base.map { $0 + range.0 }, name_len: range.1,
                           value: base.map { $0 + range.2 }, value_len: range.3)
        }
        return fields.withUnsafeBufferPointer(body)
    }
}
