/// Hand-made HTTP/2 frames for the tests that must send what no well-behaved client sends.
enum H2 {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum FrameType: UInt8 {
        case data = 0, headers = 1, rstStream = 3, settings = 4, ping = 6, goaway = 7, windowUpdate = 8, continuation = 9
    }

    static let endStream: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4
    static let ack: UInt8 = 0x1

    static let protocolError: UInt32 = 0x1
    static let refusedStream: UInt32 = 0x7
    static let cancel: UInt32 = 0x8
    static let enhanceYourCalm: UInt32 = 0xb

    struct Frame {
        let type: UInt8
        let flags: UInt8
        let stream: UInt32
        let payload: [UInt8]

        /// GOAWAY: the error code.
        var goawayError: UInt32? {
            guard type == FrameType.goaway.rawValue, payload.count >= 8 else { return nil }
            return payload[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    static func frame(_ type: FrameType, flags: UInt8 = 0, stream: UInt32, payload: [UInt8] = []) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type.rawValue, flags]
            + bigEndian(stream) + payload
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// HPACK block of a GET (or POST) for `path`: static-table method and scheme, literal path and
    /// authority.
    static func getHeaders(path: String, post: Bool = false) -> [UInt8] {
        let authority = Array("localhost".utf8)
        let pathBytes = Array(path.utf8)
        return [post ? 0x83 : 0x82, 0x86, 0x04, UInt8(pathBytes.count)] + pathBytes
            + [0x01, UInt8(authority.count)] + authority
    }

    /// The client side of a connection start: preface and an empty SETTINGS frame.
    static let start = preface + frame(.settings, stream: 0)

    static func request(stream: UInt32, path: String) -> [UInt8] {
        frame(.headers, flags: endStream | endHeaders, stream: stream, payload: getHeaders(path: path))
    }

    /// The head of a POST whose body follows in DATA frames.
    static func post(stream: UInt32, path: String) -> [UInt8] {
        frame(.headers, flags: endHeaders, stream: stream, payload: getHeaders(path: path, post: true))
    }

    static func reset(stream: UInt32, error: UInt32 = cancel) -> [UInt8] {
        frame(.rstStream, stream: stream, payload: bigEndian(error))
    }

    /// Splits complete frames off the front of `bytes`.
    static func frames(in bytes: [UInt8]) -> [Frame] {
        var result: [Frame] = []
        var index = 0
        while bytes.count - index >= 9 {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            guard bytes.count - index - 9 >= length else { break }
            let stream = bytes[index + 5..<index + 9].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
            result.append(Frame(type: bytes[index + 3], flags: bytes[index + 4], stream: stream,
                                payload: Array(bytes[index + 9..<index + 9 + length])))
            index += 9 + length
        }
        return result
    }
}
