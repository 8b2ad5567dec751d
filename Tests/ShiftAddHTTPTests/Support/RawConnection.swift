import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
}

/// A blocking TCP client on 127.0.0.1 for byte-exact HTTP tests. Every read gives up after
/// `timeout` seconds, so a test can never hang.
final class RawConnection {
    let fd: Int32
    private(set) var buffer: [UInt8] = []
    private(set) var closedByPeer = false

    init(port: Int, timeout: Int = 20, receiveBufferBytes: Int? = nil) throws {
        // `fd` is stored only once connected: a failed init must not reach deinit, which would close
        // the number a second time (by then possibly another thread's descriptor).
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw RawConnectionError(description: "socket failed") }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBufferBytes.map(Int32.init) {
            setsockopt(socketFD, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            Glibc.close(socketFD)
            throw RawConnectionError(description: "connect failed: errno \(code)")
        }
        fd = socketFD
    }

    deinit {
        Glibc.close(fd)
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawConnectionError(description: "send failed: errno \(errno)") }
            sent += n
        }
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Reads once into the buffer; false at the end of the stream (or a reset).
    @discardableResult
    func receiveMore() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
            throw RawConnectionError(description: "timed out waiting for bytes")
        }
        closedByPeer = true
        return false
    }

    /// Reads until `predicate` holds for the buffer; throws if the stream ends first.
    func receive(until predicate: ([UInt8]) -> Bool) throws {
        while !predicate(buffer) {
            guard try receiveMore() else {
                throw RawConnectionError(description: "connection closed; received \(String(decoding: buffer, as: UTF8.self))")
            }
        }
    }

    func receive(untilContains text: String) throws {
        let needle = Array(text.utf8)
        try receive { $0.firstRange(of: needle) != nil }
    }

    /// Reads until the peer closes; returns false if it did not close before the timeout.
    func receiveUntilClosed() -> Bool {
        do {
            while try receiveMore() {}
            return true
        } catch {
            return false
        }
    }

    func consume(_ count: Int) {
        buffer.removeFirst(count)
    }

    /// Reads one complete HTTP/1.1 response and removes it from the buffer.
    func readResponse(headRequest: Bool = false) throws -> ParsedResponse {
        while true {
            if let (response, used) = try ParsedResponse.parse(buffer, headRequest: headRequest, complete: closedByPeer) {
                consume(used)
                return response
            }
            guard try receiveMore() || !buffer.isEmpty else {
                throw RawConnectionError(description: "connection closed before a full response")
            }
            if closedByPeer, let (response, used) = try ParsedResponse.parse(buffer, headRequest: headRequest, complete: true) {
                consume(used)
                return response
            }
            if closedByPeer { throw RawConnectionError(description: "incomplete response: \(String(decoding: buffer, as: UTF8.self))") }
        }
    }
}

/// One HTTP/1.1 response as a test client sees it.
struct ParsedResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Parses a response at the start of `bytes`; nil when more bytes are needed.
    static func parse(_ bytes: [UInt8], headRequest: Bool, complete: Bool) throws -> (ParsedResponse, Int)? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw RawConnectionError(description: "bad status line in \(head)")
        }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        var response = ParsedResponse(status: status, headers: headers, body: [])
        let bodyStart = end.upperBound
        if headRequest || status == 204 || status == 304 || (100..<200).contains(status) {
            return (response, bodyStart)
        }
        if let length = response.header("content-length").flatMap(Int.init) {
            guard bytes.count - bodyStart >= length else { return nil }
            response.body = Array(bytes[bodyStart..<bodyStart + length])
            return (response, bodyStart + length)
        }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            guard let (body, used) = decodeChunked(bytes[bodyStart...]) else { return nil }
            response.body = body
            return (response, bodyStart + used)
        }
        guard complete else { return nil }
        response.body = Array(bytes[bodyStart...])
        return (response, bytes.count)
    }

    /// Decodes a complete chunked body (without trailers); nil when incomplete.
    static func decodeChunked(_ bytes: ArraySlice<UInt8>) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var index = bytes.startIndex
        while true {
            guard let lineEnd = bytes[index...].firstRange(of: Array("\r\n".utf8)) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText, radix: 16) else { return nil }
            let dataStart = lineEnd.upperBound
            if size == 0 {
                guard bytes.endIndex - dataStart >= 2 else { return nil }
                return (body, dataStart + 2 - bytes.startIndex)
            }
            guard bytes.endIndex - dataStart >= size + 2 else { return nil }
            body.append(contentsOf: bytes[dataStart..<dataStart + size])
            index = dataStart + size + 2
        }
    }
}
