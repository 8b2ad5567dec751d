import Foundation
import ShiftAddHTTP

/// Handler used by the tests, routed by path:
/// - `/echo`: the body back, with the method, target, version, TLS flag and header count as headers
/// - `/stream?n=N`: N chunks "chunk i\n" from a background thread, a short pause between them
/// - `/gated`: "first\n", then waits for `openGate()`, then "second\n" and the end
/// - `/hang`: never answers
/// - `/flood`: streams 256 KiB chunks from a background thread until cancelled (at most 256 MiB)
final class TestHandler: HTTPRequestHandler, @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var seen: [HTTPRequest] = []
    private var cancelledIDs: [HTTPRequestID] = []
    private let gate = DispatchSemaphore(value: 0)

    var requests: [HTTPRequest] { lock.withLock { seen } }
    var cancelled: [HTTPRequestID] { lock.withLock { cancelledIDs } }

    func isCancelled(_ id: HTTPRequestID) -> Bool { lock.withLock { cancelledIDs.contains(id) } }

    func request(path: String) -> HTTPRequest? { lock.withLock { seen.last { $0.path == path } } }

    func openGate() { gate.signal() }

    func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        lock.withLock { seen.append(request) }
        switch request.path {
        case "/echo":
            responder.respond(status: 200, headers: [
                ("Content-Type", "application/octet-stream"),
                ("X-Method", request.method),
                ("X-Target", request.target),
                ("X-Version", request.version == .http2 ? "2" : "1.1"),
                ("X-Secure", request.secure ? "yes" : "no"),
                ("X-Host", request.header("Host") ?? ""),
                ("X-Bad", "line\r\nbreak"),
            ], body: request.body)
        case "/stream":
            let count = Int(request.target.split(separator: "=").last ?? "") ?? 5
            Thread.detachNewThread {
                responder.startStream(status: 200, headers: [("content-type", "text/plain")])
                for index in 0..<count {
                    responder.send(Array("chunk \(index)\n".utf8))
                    Thread.sleep(forTimeInterval: 0.01)
                }
                responder.finish()
            }
        case "/gated":
            Thread.detachNewThread { [gate] in
                responder.startStream(status: 200, headers: [("content-type", "text/plain")])
                responder.send(Array("first\n".utf8))
                gate.wait()
                responder.send(Array("second\n".utf8))
                responder.finish()
            }
        case "/hang":
            break
        case "/flood":
            Thread.detachNewThread { [self] in
                responder.startStream(status: 200, headers: [])
                let chunk = [UInt8](repeating: 0x61, count: 256 * 1024)
                for _ in 0..<1024 where !isCancelled(request.id) {
                    responder.send(chunk)
                    Thread.sleep(forTimeInterval: 0.002)
                }
                responder.finish()
            }
        default:
            responder.respond(status: 404, headers: [], body: Array("not found".utf8))
        }
    }

    func cancelled(_ id: HTTPRequestID) {
        lock.withLock { cancelledIDs.append(id) }
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. The limit is
/// generous on purpose: tests wait for events, they do not measure speed.
func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// A started server on free ports with a fresh `TestHandler`.
func makeServer(_ configure: (inout HTTPServerOptions) -> Void = { _ in }) throws -> (HTTPServer, TestHandler) {
    var options = HTTPServerOptions()
    options.port = 0
    configure(&options)
    let handler = TestHandler()
    let server = try HTTPServer(options: options, handler: handler)
    server.start()
    return (server, handler)
}
