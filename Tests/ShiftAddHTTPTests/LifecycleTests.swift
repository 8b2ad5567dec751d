import Foundation
import ShiftAddHTTP
import Testing

@Suite("Front end lifecycle and limits", .serialized)
struct LifecycleTests {
    @Test("a client closing mid-stream cancels its request")
    func closeMidStreamCancels() async throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        var connection: RawConnection? = try RawConnection(port: server.port)
        try connection?.send("GET /gated HTTP/1.1\r\nHost: t\r\n\r\n")
        try connection?.receive(untilContains: "first")
        let id = try #require(handler.request(path: "/gated")).id
        #expect(server.statistics().openRequests == 1)
        connection = nil
        #expect(await eventually { handler.isCancelled(id) })
        #expect(await eventually { server.statistics().openRequests == 0 })
        // Submissions after the cancellation are dropped without harm.
        handler.openGate()
        #expect(handler.cancelled == [id])
    }

    @Test("a request the handler never answers is cancelled when its client leaves")
    func hangingRequest() async throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        var connection: RawConnection? = try RawConnection(port: server.port)
        try connection?.send("POST /hang HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        #expect(await eventually { handler.request(path: "/hang") != nil })
        connection = nil
        let id = try #require(handler.request(path: "/hang")).id
        #expect(await eventually { handler.isCancelled(id) })
    }

    @Test("a finished response is never reported as cancelled")
    func noCancelAfterFinish() async throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        var connection: RawConnection? = try RawConnection(port: server.port)
        try connection?.send("GET /stream?n=3 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try connection?.readResponse().text == "chunk 0\nchunk 1\nchunk 2\n")
        connection = nil
        #expect(await eventually { server.statistics().openConnections == 0 })
        #expect(handler.cancelled.isEmpty)
    }

    /// The server half-closes each connection it ends and lingers until the client closes too;
    /// the test closes its side once it has seen the end, so no linger runs to its deadline.
    @Test("drain: idle connections close, requests in flight finish, HTTP/2 gets GOAWAY, no new connections")
    func drain() async throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        var idle: RawConnection? = try RawConnection(port: server.port)
        try idle?.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try idle?.readResponse().status == 200)
        var busy: RawConnection? = try RawConnection(port: server.port)
        try busy?.send("GET /gated HTTP/1.1\r\nHost: t\r\n\r\n")
        try busy?.receive(untilContains: "first")
        var h2: RawConnection? = try RawConnection(port: server.port)
        try h2?.send(H2.start + H2.request(stream: 1, path: "/echo"))
        try h2?.receive { H2.frames(in: $0).contains { $0.stream == 1 && $0.flags & H2.endStream != 0 } }

        server.drain()
        #expect(idle?.receiveUntilClosed() == true)
        idle = nil
        try h2?.receive { H2.frames(in: $0).contains { $0.goawayError != nil } }
        let goaway = H2.frames(in: h2?.buffer ?? []).first { $0.goawayError != nil }
        #expect(goaway?.goawayError == 0)
        #expect(h2?.receiveUntilClosed() == true)
        h2 = nil
        #expect(await eventually { (try? RawConnection(port: server.port)) == nil })

        handler.openGate()
        try busy?.receive(untilContains: "0\r\n\r\n")
        let response = try busy?.readResponse()
        #expect(response?.text == "first\nsecond\n")
        #expect(busy?.receiveUntilClosed() == true)
        busy = nil
        #expect(handler.cancelled.isEmpty)
        #expect(await eventually { server.statistics().openConnections == 0 })
    }

    @Test("stop cancels what is in flight and later submissions are ignored")
    func stop() async throws {
        let (server, handler) = try makeServer()
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await eventually { handler.request(path: "/hang") != nil })
        server.stop()
        let id = try #require(handler.request(path: "/hang")).id
        #expect(handler.cancelled == [id])
        #expect(connection.receiveUntilClosed())
        let stats = server.statistics()
        #expect(stats.openConnections == 0)
        #expect(stats.openRequests == 0)
        server.stop()
    }

    @Test("connections past the limit are refused with 503, and the server recovers")
    func connectionLimit() async throws {
        let (server, _) = try makeServer { $0.maxConnections = 2 }
        defer { server.stop() }
        let first = try RawConnection(port: server.port)
        var second: RawConnection? = try RawConnection(port: server.port)
        #expect(await eventually { server.statistics().openConnections == 2 })
        let third = try RawConnection(port: server.port)
        #expect(third.receiveUntilClosed())
        let refusal = try third.readResponse()
        #expect(refusal.status == 503)
        #expect(server.statistics().refusedConnections == 1)
        second = nil
        #expect(await eventually { server.statistics().openConnections == 1 })
        let fourth = try RawConnection(port: server.port)
        try fourth.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try fourth.readResponse().status == 200)
        try first.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try first.readResponse().status == 200)
        #expect(second == nil)
    }

    // The loop checks the limits on its sweep (every 250 ms), so a 20 ms limit closes a connection
    // within one sweep of its expiry.
    @Test("slow heads and silent connections are closed by the timeouts")
    func timeouts() throws {
        let (server, handler) = try makeServer {
            $0.headerTimeout = .milliseconds(20)
            $0.idleTimeout = .milliseconds(20)
        }
        defer { server.stop() }
        let slow = try RawConnection(port: server.port)
        try slow.send("GET /echo HTTP/1.1\r\nHost: t\r\n")
        let silent = try RawConnection(port: server.port)
        let h2 = try RawConnection(port: server.port)
        try h2.send(H2.start)
        #expect(slow.receiveUntilClosed())
        #expect(silent.receiveUntilClosed())
        #expect(h2.receiveUntilClosed())
        #expect(handler.requests.isEmpty)
    }

    /// The request's connection has been quiet since before the idle keep-alive connection's last
    /// byte, and the sweep applies one rule to both: once the idle one is closed, the limit has
    /// passed for the request's connection too, so only its exemption keeps it open.
    @Test("a request in flight is not subject to the idle timeout")
    func requestInFlightOutlivesIdleTimeout() throws {
        // The header limit keeps its default, so no pause between connecting and sending can
        // close a connection before its request arrives.
        let (server, handler) = try makeServer { $0.idleTimeout = .milliseconds(20) }
        defer { server.stop() }
        let waiting = try RawConnection(port: server.port)
        try waiting.send("GET /gated HTTP/1.1\r\nHost: t\r\n\r\n")
        try waiting.receive(untilContains: "first")
        let idle = try RawConnection(port: server.port)
        try idle.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try idle.readResponse().status == 200)
        #expect(idle.receiveUntilClosed())
        handler.openGate()
        try waiting.receive(untilContains: "0\r\n\r\n")
        #expect(try waiting.readResponse().text == "first\nsecond\n")
        #expect(handler.cancelled.isEmpty)
    }

    /// An HTTP/2 client whose flow-control window stays shut gets none of its response; once the
    /// held-back bytes have waited the idle timeout, the connection goes and the request with it.
    @Test("a response held back by a window the client never opens times out")
    func closedWindowTimesOut() async throws {
        let (server, handler) = try makeServer { $0.idleTimeout = .milliseconds(20) }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        let noWindow = H2.frame(.settings, stream: 0, payload: [0, 4] + H2.bigEndian(0))
        try connection.send(H2.preface + noWindow + H2.request(stream: 1, path: "/stream?n=3"))
        #expect(await eventually { handler.request(path: "/stream") != nil })
        let id = try #require(handler.request(path: "/stream")).id
        #expect(connection.receiveUntilClosed())
        #expect(!H2.frames(in: connection.buffer).contains { $0.type == H2.FrameType.data.rawValue && !$0.payload.isEmpty })
        // The client sees the close before the loop thread has told the handler.
        #expect(await eventually { handler.isCancelled(id) })
        #expect(await eventually { server.statistics().openRequests == 0 && server.statistics().openConnections == 0 })
    }

    @Test("a client that does not read loses its stream once the output cap is reached", arguments: [false, true])
    func outputCap(http2: Bool) async throws {
        let (server, handler) = try makeServer { $0.maxOutputBytesPerConnection = 512 * 1024 }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port, receiveBufferBytes: 4096)
        if http2 {
            try connection.send(H2.start + H2.request(stream: 1, path: "/flood"))
        } else {
            try connection.send("GET /flood HTTP/1.1\r\nHost: t\r\n\r\n")
        }
        #expect(await eventually { handler.request(path: "/flood") != nil })
        let id = try #require(handler.request(path: "/flood")).id
        #expect(await eventually { handler.isCancelled(id) })
        #expect(await eventually { server.statistics().openRequests == 0 })
    }
}
