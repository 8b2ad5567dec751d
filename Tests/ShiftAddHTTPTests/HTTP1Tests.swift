import Foundation
import ShiftAddHTTP
import Testing

@Suite("HTTP/1.1 front end", .serialized)
struct HTTP1Tests {
    @Test("keep-alive: several requests on one connection, echoed with method, target and body")
    func keepAlive() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        for index in 0..<3 {
            let body = "payload \(index)"
            try connection.send("POST /echo?i=\(index) HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.text == body)
            #expect(response.header("x-target") == "/echo?i=\(index)")
            #expect(response.header("x-method") == "POST")
            #expect(response.header("x-version") == "1.1")
            #expect(response.header("x-host") == "test")
            #expect(response.header("connection") == nil)
            // A header value with CR LF from the handler is dropped, never sent.
            #expect(response.header("x-bad") == nil)
        }
        #expect(handler.requests.count == 3)
        #expect(Set(handler.requests.map(\.id)).count == 3)
        #expect(handler.requests.allSatisfy { $0.remoteAddress.hasPrefix("127.0.0.1:") && !$0.secure })
        #expect(server.statistics().acceptedConnections == 1)
    }

    @Test("pipelined requests are answered in order")
    func pipelining() throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        var batch = ""
        for index in 0..<4 {
            batch += "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n\(index)"
        }
        batch += "GET /stream?n=3 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        try connection.send(batch)
        for index in 0..<4 {
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "\(index)")
        }
        let streamed = try connection.readResponse()
        #expect(streamed.text == "chunk 0\nchunk 1\nchunk 2\n")
        #expect(streamed.header("transfer-encoding") == "chunked")
        let last = try connection.readResponse()
        #expect(last.header("x-target") == "/echo?last")
        #expect(last.header("connection") == "close")
        #expect(connection.receiveUntilClosed())
    }

    @Test("chunked request bodies are assembled, extensions and trailers ignored")
    func chunkedRequestBody() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        try connection.send("5\r\nhello\r\n")
        try connection.send("7;name=value\r\n, world\r\n")
        try connection.send("0\r\nX-Trailer: yes\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "hello, world")
        #expect(handler.request(path: "/echo")?.header("transfer-encoding") == "chunked")
    }

    @Test("streamed chunks reach the client before the response finishes")
    func streamingIsFlushed() throws {
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /gated HTTP/1.1\r\nHost: t\r\n\r\n")
        // The handler holds the rest of the body until the gate opens: "first" must arrive alone.
        try connection.receive(untilContains: "6\r\nfirst\n\r\n")
        #expect(String(decoding: connection.buffer, as: UTF8.self).contains("second") == false)
        handler.openGate()
        try connection.receive(untilContains: "0\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "first\nsecond\n")
        // The connection stays usable after a streamed response.
        try connection.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try connection.readResponse().status == 200)
    }

    @Test("HTTP/1.0: keep-alive only on request, streams end with the connection")
    func http10() throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try connection.readResponse().status == 200)
        try connection.send("GET /stream?n=2 HTTP/1.0\r\n\r\n")
        #expect(connection.receiveUntilClosed())
        let response = try connection.readResponse()
        #expect(response.header("transfer-encoding") == nil)
        #expect(response.text == "chunk 0\nchunk 1\n")
    }

    @Test("HEAD gets the length but no body; Expect: 100-continue is honoured")
    func headAndContinue() throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("HEAD /nothing HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try connection.readResponse(headRequest: true)
        #expect(head.status == 404)
        #expect(head.header("content-length") == "9")
        try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        let interim = try connection.readResponse()
        #expect(interim.status == 100)
        try connection.send("body")
        let final = try connection.readResponse()
        #expect(final.status == 200)
        #expect(final.text == "body")
    }

    struct BadRequest: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: String
        var testDescription: String { name }
    }

    static let smuggling: [BadRequest] = [
        BadRequest(name: "Content-Length with Transfer-Encoding",
                   bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        BadRequest(name: "Transfer-Encoding with Content-Length",
                   bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
        BadRequest(name: "duplicate Content-Length", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
        BadRequest(name: "Content-Length list", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\nx"),
        BadRequest(name: "signed Content-Length", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\nx"),
        BadRequest(name: "hex Content-Length", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0x1\r\n\r\nx"),
        BadRequest(name: "Transfer-Encoding list", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        BadRequest(name: "Transfer-Encoding variant", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
        BadRequest(name: "Transfer-Encoding identity", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n"),
        BadRequest(name: "duplicate Transfer-Encoding",
                   bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        BadRequest(name: "Transfer-Encoding on HTTP/1.0", bytes: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        BadRequest(name: "obsolete line folding", bytes: "GET /echo HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n"),
        BadRequest(name: "bare LF", bytes: "GET /echo HTTP/1.1\nHost: t\n\n"),
        BadRequest(name: "bare LF inside a field", bytes: "GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\nb\r\n\r\n"),
        BadRequest(name: "bare CR", bytes: "GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n"),
        BadRequest(name: "space before colon", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length : 1\r\n\r\nx"),
        BadRequest(name: "tab before colon", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n"),
        BadRequest(name: "invalid field name", bytes: "GET /echo HTTP/1.1\r\nHost: t\r\nX@A: 1\r\n\r\n"),
        BadRequest(name: "NUL in a value", bytes: "GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\u{0}b\r\n\r\n"),
        BadRequest(name: "missing Host", bytes: "GET /echo HTTP/1.1\r\n\r\n"),
        BadRequest(name: "duplicate Host", bytes: "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        BadRequest(name: "bad chunk size", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        BadRequest(name: "chunk size line with bare LF", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"),
        BadRequest(name: "chunk without CRLF", bytes: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n"),
        BadRequest(name: "two spaces in the request line", bytes: "GET  /echo HTTP/1.1\r\nHost: t\r\n\r\n"),
        BadRequest(name: "bad target", bytes: "GET echo HTTP/1.1\r\nHost: t\r\n\r\n"),
        BadRequest(name: "garbage bytes", bytes: "\u{1}\u{2}\u{3}\u{7f} not http at all\r\n\r\n"),
    ]

    @Test("request smuggling patterns get 400, an OpenAI-shaped error and a closed connection",
          arguments: smuggling)
    func smugglingIsRefused(_ bad: BadRequest) throws {
        let name = bad.name
        let (server, handler) = try makeServer()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send(bad.bytes)
        let response = try connection.readResponse()
        #expect(response.status == 400, "\(name)")
        #expect(response.header("connection") == "close")
        #expect(response.header("content-type") == "application/json")
        #expect(response.text.hasPrefix("{\"error\":{\"message\":\""))
        #expect(response.text.hasSuffix("\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}"))
        #expect(connection.receiveUntilClosed(), "\(name): the connection must close")
        #expect(handler.requests.isEmpty, "\(name): the handler must never see it")
        #expect(server.statistics().protocolErrors == 1)
        try expectServing(server)
    }

    @Test("a head over the limit gets 431")
    func oversizedHeaders() throws {
        let (server, handler) = try makeServer { $0.maxHeaderBytes = 4096 }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 5000))\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 431)
        #expect(connection.receiveUntilClosed())
        // Many small fields count too, and so does a head that never ends.
        let many = try RawConnection(port: server.port)
        try many.send("GET /echo HTTP/1.1\r\nHost: t\r\n" + String(repeating: "X-A: b\r\n", count: 600))
        #expect(try many.readResponse().status == 431)
        #expect(handler.requests.isEmpty)
        try expectServing(server)
    }

    @Test("a body over the limit gets 413, declared or chunked, without being buffered")
    func oversizedBody() throws {
        let (server, handler) = try makeServer { $0.maxBodyBytes = 1000 }
        defer { server.stop() }
        let declared = try RawConnection(port: server.port)
        try declared.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\nabc")
        #expect(try declared.readResponse().status == 413)
        #expect(declared.receiveUntilClosed())

        let chunked = try RawConnection(port: server.port)
        try chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = "200\r\n" + String(repeating: "z", count: 512) + "\r\n"
        try chunked.send(piece + piece)
        #expect(try chunked.readResponse().status == 413)
        #expect(chunked.receiveUntilClosed())

        let exact = try RawConnection(port: server.port)
        try exact.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "y", count: 1000))
        #expect(try exact.readResponse().body.count == 1000)
        #expect(handler.requests.count == 1)
    }

    /// A fresh connection still gets a normal answer.
    func expectServing(_ server: HTTPServer) throws {
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /echo?alive HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.header("x-target") == "/echo?alive")
    }
}
