import Foundation
import ShiftAddHTTP
import Testing

@Suite("HTTP/2 front end", .serialized)
struct HTTP2Tests {
    @Test("curl with prior knowledge: echo with a body over h2c")
    func curlPriorKnowledge() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let result = try run("curl", ["-s", "-i", "--http2-prior-knowledge", "--data-binary", "hello h2",
                                      "http://127.0.0.1:\(server.port)/echo?x=1"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix("HTTP/2 200"))
        #expect(result.output.contains("x-version: 2"))
        #expect(result.output.contains("x-method: POST"))
        #expect(result.output.contains("x-target: /echo?x=1"))
        #expect(result.output.contains("x-host: 127.0.0.1:\(server.port)"))
        #expect(result.output.contains("content-length: 8"))
        #expect(result.output.hasSuffix("hello h2"))
        let request = try #require(handler.request(path: "/echo"))
        #expect(request.version == .http2)
        #expect(request.body == Array("hello h2".utf8))
    }

    @Test("curl with prior knowledge: a streamed response arrives whole")
    func curlStreaming() throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let result = try run("curl", ["-s", "-N", "--http2-prior-knowledge", "http://127.0.0.1:\(server.port)/stream?n=20"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == (0..<20).map { "chunk \($0)\n" }.joined())
    }

    @Test("nghttp: several concurrent streams on one connection")
    func nghttpConcurrent() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let result = try run("nghttp", ["-n", "-s", "-m", "8", "http://127.0.0.1:\(server.port)/stream?n=3"])
        #expect(result.status == 0, "\(result.output) \(result.error)")
        #expect(handler.requests.count == 8)
        #expect(server.statistics().acceptedConnections == 1)
        let body = try run("nghttp", ["http://127.0.0.1:\(server.port)/stream?n=4"])
        #expect(body.output == "chunk 0\nchunk 1\nchunk 2\nchunk 3\n")
    }

    @Test("streamed DATA reaches the client before the stream ends")
    func streamingIsFlushed() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send(H2.start + H2.request(stream: 1, path: "/gated"))
        try connection.receive { bytes in
            H2.frames(in: bytes).contains { $0.type == H2.FrameType.data.rawValue && $0.stream == 1 }
        }
        let early = H2.frames(in: connection.buffer).filter { $0.stream == 1 }
        #expect(early.allSatisfy { $0.flags & H2.endStream == 0 })
        handler.openGate()
        try connection.receive { bytes in
            H2.frames(in: bytes).contains { $0.stream == 1 && $0.flags & H2.endStream != 0 }
        }
        let data = H2.frames(in: connection.buffer).filter { $0.type == H2.FrameType.data.rawValue }
        #expect(String(decoding: data.flatMap(\.payload), as: UTF8.self) == "first\nsecond\n")
    }

    @Test("an HTTP/2 preface followed by junk gets GOAWAY PROTOCOL_ERROR and a close")
    func prefaceThenJunk() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send(H2.preface + Array("this is not a frame at all, just junk".utf8))
        #expect(connection.receiveUntilClosed())
        let goaway = H2.frames(in: connection.buffer).compactMap(\.goawayError)
        #expect(goaway == [H2.protocolError])
        #expect(handler.requests.isEmpty)
        #expect(server.statistics().protocolErrors >= 1)
        try expectServing(server)
    }

    @Test("a rapid-reset storm ends the connection with GOAWAY ENHANCE_YOUR_CALM")
    func rapidReset() async throws {
        let (server, handler) = try makeServer { $0.maxStreamResets = 50 }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        var storm = H2.start
        for index in 0..<400 {
            let stream = UInt32(1 + 2 * index)
            storm += H2.request(stream: stream, path: "/hang") + H2.reset(stream: stream)
        }
        try connection.send(storm)
        #expect(connection.receiveUntilClosed())
        let goaway = H2.frames(in: connection.buffer).compactMap(\.goawayError)
        #expect(goaway == [H2.enhanceYourCalm])
        let stats = server.statistics()
        #expect(stats.streamResets == 51)
        #expect(stats.protocolErrors == 1)
        // Every request the handler saw was cancelled; nothing is left open.
        #expect(await eventually { handler.cancelled.count == handler.requests.count })
        #expect(handler.requests.count <= 51)
        #expect(await eventually { server.statistics().openRequests == 0 })
        try expectServing(server)
    }

    @Test("a CONTINUATION flood ends the connection with GOAWAY ENHANCE_YOUR_CALM")
    func continuationFlood() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        var flood = H2.start + H2.frame(.headers, stream: 1, payload: H2.getHeaders(path: "/hang"))
        for index in 0..<100 {
            let name = Array("x-flood-\(index)".utf8)
            flood += H2.frame(.continuation, stream: 1, payload: [0, UInt8(name.count)] + name + [1, 0x61])
        }
        try connection.send(flood)
        #expect(connection.receiveUntilClosed())
        let goaway = H2.frames(in: connection.buffer).compactMap(\.goawayError)
        #expect(goaway == [H2.enhanceYourCalm])
        #expect(handler.requests.isEmpty)
        #expect(server.statistics().protocolErrors == 1)
        try expectServing(server)
    }

    @Test("RST_STREAM from the client cancels its request; the connection goes on")
    func resetCancels() async throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send(H2.start + H2.request(stream: 1, path: "/hang"))
        #expect(await eventually { handler.request(path: "/hang") != nil })
        let id = try #require(handler.request(path: "/hang")).id
        try connection.send(H2.reset(stream: 1))
        #expect(await eventually { handler.isCancelled(id) })
        #expect(handler.cancelled == [id])
        try connection.send(H2.request(stream: 3, path: "/echo"))
        try connection.receive { bytes in
            H2.frames(in: bytes).contains { $0.stream == 3 && $0.flags & H2.endStream != 0 }
        }
        #expect(server.statistics().streamResets == 1)
    }

    @Test("HTTP/2 limits: a large header block gets 431, a large body 413")
    func limits() throws {
        let (server, handler) = try makeServer {
            $0.maxHeaderBytes = 2048
            $0.maxBodyBytes = 10_000
        }
        defer { server.stop() }
        let big = try run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--http2-prior-knowledge",
                                   "-H", "x-big: \(String(repeating: "b", count: 3000))",
                                   "http://127.0.0.1:\(server.port)/echo"])
        #expect(big.output == "431")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("shiftadd-body-\(UUID().uuidString)")
        try Data(repeating: 0x41, count: 100_000).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let body = try run("curl", ["-s", "-w", "\n%{http_code}", "--http2-prior-knowledge", "--data-binary", "@\(file.path)",
                                    "http://127.0.0.1:\(server.port)/echo"])
        #expect(body.output.hasSuffix("\n413"))
        #expect(body.output.contains("\"type\":\"invalid_request_error\""))
        #expect(handler.requests.isEmpty)
        #expect(server.statistics().protocolErrors == 2)
    }

    @Test("SETTINGS_MAX_CONCURRENT_STREAMS is advertised and a client exceeding it loses the connection")
    func concurrencyLimit() async throws {
        let (server, handler) = try makeServer { $0.maxConcurrentStreams = 2 }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send(H2.start)
        try connection.receive { H2.frames(in: $0).contains { $0.type == H2.FrameType.settings.rawValue } }
        let settings = try #require(H2.frames(in: connection.buffer).first { $0.type == H2.FrameType.settings.rawValue })
        // SETTINGS_MAX_CONCURRENT_STREAMS (id 3) = 2 is among the server's settings.
        #expect(settings.payload.count % 6 == 0)
        let entries = stride(from: 0, to: settings.payload.count, by: 6).map { Array(settings.payload[$0..<$0 + 6]) }
        #expect(entries.contains([0, 3, 0, 0, 0, 2]))
        // Once the client acknowledged the limit, a third stream is a connection error (nghttp2's rule).
        try connection.send(H2.frame(.settings, flags: H2.ack, stream: 0) + H2.request(stream: 1, path: "/hang")
            + H2.request(stream: 3, path: "/hang") + H2.request(stream: 5, path: "/hang"))
        #expect(connection.receiveUntilClosed())
        #expect(H2.frames(in: connection.buffer).compactMap(\.goawayError) == [H2.protocolError])
        #expect(await eventually { handler.requests.count == 2 && handler.cancelled.count == 2 })
        #expect(server.statistics().openRequests == 0)
    }

    @Test("concurrent uploads on one connection are bounded: the stream past the budget is refused")
    func uploadBudget() throws {
        let (server, handler) = try makeServer { $0.maxBodyBytes = 10_000 }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        let piece = [UInt8](repeating: 0x42, count: 9000)
        var bytes = H2.start
        for stream: UInt32 in [1, 3, 5] {
            bytes += H2.post(stream: stream, path: "/echo") + H2.frame(.data, stream: stream, payload: piece)
        }
        try connection.send(bytes)
        try connection.receive { H2.frames(in: $0).contains { $0.type == H2.FrameType.rstStream.rawValue } }
        let reset = try #require(H2.frames(in: connection.buffer).first { $0.type == H2.FrameType.rstStream.rawValue })
        #expect(reset.stream == 5)
        #expect(reset.payload == H2.bigEndian(H2.refusedStream))
        // The streams within the budget complete normally.
        try connection.send(H2.frame(.data, flags: H2.endStream, stream: 1, payload: [0x43]))
        try connection.receive { H2.frames(in: $0).contains { $0.stream == 1 && $0.flags & H2.endStream != 0 } }
        let body = H2.frames(in: connection.buffer).filter { $0.stream == 1 && $0.type == H2.FrameType.data.rawValue }
        #expect(body.flatMap(\.payload) == piece + [0x43])
        #expect(handler.requests.map(\.body.count) == [9001])
    }

    @Test("closing an HTTP/2 connection cancels every open stream")
    func closeCancelsStreams() async throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        var connection: RawConnection? = try RawConnection(port: server.port)
        try connection?.send(H2.start + H2.request(stream: 1, path: "/hang") + H2.request(stream: 3, path: "/gated"))
        #expect(await eventually { handler.requests.count == 2 })
        #expect(server.statistics().openRequests == 2)
        connection = nil
        #expect(await eventually { handler.cancelled.count == 2 })
        #expect(Set(handler.cancelled) == Set(handler.requests.map(\.id)))
        #expect(await eventually { server.statistics().openRequests == 0 && server.statistics().openConnections == 0 })
        handler.openGate()
    }

    func expectServing(_ server: HTTPServer) throws {
        let result = try run("curl", ["-s", "--http2-prior-knowledge", "-d", "alive", "http://127.0.0.1:\(server.port)/echo"])
        #expect(result.output == "alive")
    }
}
