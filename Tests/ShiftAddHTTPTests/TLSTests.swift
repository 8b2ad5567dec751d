import Foundation
import ShiftAddHTTP
import Testing

@Suite("TLS front end", .serialized)
struct TLSTests {
    func makeTLSServer() throws -> (HTTPServer, TestHandler) {
        let files = try makeCertificate()
        return try makeServer {
            $0.tlsPort = 0
            $0.certificateFile = files.certificate
            $0.keyFile = files.key
        }
    }

    @Test("h2 is chosen by ALPN")
    func h2ByALPN() throws {
        let (server, handler) = try makeTLSServer()
        defer { server.stop() }
        let port = try #require(server.tlsPort)
        #expect(port != server.port)
        let result = try run("curl", ["-s", "-k", "-i", "--data-binary", "secret", "https://127.0.0.1:\(port)/echo"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix("HTTP/2 200"))
        #expect(result.output.contains("x-secure: yes"))
        #expect(result.output.hasSuffix("secret"))
        let request = try #require(handler.request(path: "/echo"))
        #expect(request.secure)
        #expect(request.version == .http2)
    }

    @Test("http/1.1 is served when the client asks for it, streaming included")
    func http11OverTLS() throws {
        let (server, handler) = try makeTLSServer()
        defer { server.stop() }
        let port = try #require(server.tlsPort)
        let result = try run("curl", ["-s", "-k", "-i", "--http1.1", "https://127.0.0.1:\(port)/echo"]).output.lowercased()
        #expect(result.hasPrefix("http/1.1 200"))
        #expect(result.contains("x-version: 1.1"))
        #expect(result.contains("x-secure: yes"))
        let stream = try run("curl", ["-s", "-k", "-N", "--http1.1", "https://127.0.0.1:\(port)/stream?n=6"])
        #expect(stream.output == (0..<6).map { "chunk \($0)\n" }.joined())
        #expect(handler.requests.allSatisfy { $0.secure })
        // The cleartext port keeps working next to the TLS one.
        let plain = try run("curl", ["-s", "http://127.0.0.1:\(server.port)/echo", "-d", "plain"])
        #expect(plain.output == "plain")
    }

    @Test("nghttp over TLS, and TLS 1.1 or plain bytes on the TLS port are refused")
    func nghttpAndRefusals() throws {
        let (server, handler) = try makeTLSServer()
        defer { server.stop() }
        let port = try #require(server.tlsPort)
        let result = try run("nghttp", ["https://127.0.0.1:\(port)/stream?n=3"])
        #expect(result.output == "chunk 0\nchunk 1\nchunk 2\n")
        let old = try run("curl", ["-s", "-k", "--tlsv1.1", "--tls-max", "1.1", "https://127.0.0.1:\(port)/echo"])
        #expect(old.status != 0)
        let connection = try RawConnection(port: port)
        try connection.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.receiveUntilClosed())
        #expect(handler.requests.count == 1)
    }

    @Test("a missing certificate is a clear error at start")
    func missingCertificate() {
        var options = HTTPServerOptions()
        options.port = 0
        options.tlsPort = 0
        options.certificateFile = "/nonexistent/cert.pem"
        options.keyFile = "/nonexistent/key.pem"
        #expect {
            _ = try HTTPServer(options: options, handler: TestHandler())
        } throws: { error in
            (error as? HTTPServerError)?.message.contains("/nonexistent/cert.pem") == true
        }
    }
}
