import Dispatch
import Foundation
import ShiftAddBundle
import ShiftAddEngine
import ShiftAddHTTP
import ShiftAddModel
import ShiftAddScheduler
import ShiftAddServer
import ShiftAddTestSupport
import ShiftAddTokenizer
import Synchronization
import Testing

/// The model the end-to-end tests serve: a scripted one on the tiny byte-level vocabulary whose
/// text is `text` read from the position it continues at, so every request's output is known on
/// any machine. Tests that hold a generation open pass `onForward` (see `ScriptedModel`).
enum TinyServedModel {
    static let contextLength = 512
    static let text = "the cat sat on the mat, and 3 dogs ran by. "

    static func make(onForward: (@Sendable (Int) -> Void)? = nil) -> ScriptedModel {
        let bytes = Array(text.utf8).map(Int.init)
        return ScriptedModel(vocabularySize: 260, contextLength: contextLength, onForward: onForward) { history in
            bytes[history.count % bytes.count]
        }
    }

    /// The byte-level tokenizer of `GGUFBuilder.tinyModelForConversion` (byte b is token b).
    static let tokenizer: Result<Tokenizer, any Error> = Result {
        let source = temporaryPath("served-tiny.gguf")
        try GGUFBuilder.tinyModelForConversion().write(to: source)
        guard let spec = try GGUFReader.read(path: source).tokenizer else {
            throw RawHTTP.Failure(description: "the tiny model has no tokenizer")
        }
        return try Tokenizer(spec: spec)
    }
}

/// Holds the engine inside one chosen forward pass until the test lets it go: a generation that
/// cannot move on, whatever the machine's speed.
final class ForwardHold: Sendable {
    private let reached = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let call: Int

    init(call: Int) { self.call = call }

    var onForward: @Sendable (Int) -> Void {
        { [self] c in
            guard c == call else { return }
            reached.signal()
            released.wait()
        }
    }

    /// Returns once the engine is inside the held pass.
    func waitUntilHeld() {
        reached.wait()
        reached.signal()
    }

    /// Lets the held pass (and every later one) run; more calls change nothing.
    func release() { released.signal() }
}

/// A ChatML template like SmolLM2's, small enough to read in a test.
let chatMLTemplate = """
    {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
    """

/// Log lines written by a server under test.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger { Logger(level: .debug, format: .text) { [self] line in lines.withLock { $0.append(line) } } }

    var all: [String] { lines.withLock { $0 } }
}

/// An API server on a free port over the tiny model, with its own scheduler.
final class TestServer: Sendable {
    static let modelId = "tiny-test"

    let scheduler: Scheduler
    let metrics = Metrics()
    let api: APIServer
    let http: HTTPServer
    let log = LogCapture()

    var port: Int { http.port }

    init(model: any BatchedModel = TinyServedModel.make(), apiKeys: [String] = [], corsOrigins: [String] = [],
         chatTemplate: String? = chatMLTemplate, ready: Bool = true, keepAliveSeconds: Double = 5) throws {
        let tokenizer = try TinyServedModel.tokenizer.get()
        var configuration = SchedulerConfiguration()
        configuration.maxBatchTokens = 128
        configuration.maxRunning = 8
        configuration.maxQueued = 16
        let metrics = metrics
        scheduler = try Scheduler(model: model, tokenizer: tokenizer, configuration: configuration,
                                  observer: { metrics.record($0) })
        api = APIServer(scheduler: scheduler, modelId: Self.modelId, chatTemplate: chatTemplate, bosToken: "",
                        eosToken: "", apiKeys: apiKeys, corsOrigins: corsOrigins, logger: log.logger, metrics: metrics,
                        keepAliveSeconds: keepAliveSeconds)
        var options = HTTPServerOptions()
        options.port = 0
        http = try HTTPServer(options: options, handler: api)
        api.setHTTPStatistics { [weak http] in http?.statistics() }
        api.setReady(ready)
        http.start()
    }

    func stop() {
        http.stop()
        scheduler.shutdown()
    }

    /// Runs `body` against a fresh server and stops it afterwards.
    static func with<T>(model: any BatchedModel = TinyServedModel.make(), apiKeys: [String] = [], corsOrigins: [String] = [],
                        chatTemplate: String? = chatMLTemplate, ready: Bool = true, _ body: (TestServer) throws -> T) throws -> T {
        let server = try TestServer(model: model, apiKeys: apiKeys, corsOrigins: corsOrigins, chatTemplate: chatTemplate,
                                    ready: ready)
        defer { server.stop() }
        return try body(server)
    }

    func request(_ method: String, _ path: String, json: String? = nil, headers: [(String, String)] = []) throws -> RawResponse {
        try RawHTTP.request(port: port, method: method, path: path, headers: headers, body: Array((json ?? "").utf8))
    }

    func post(_ path: String, _ json: String, headers: [(String, String)] = []) throws -> RawResponse {
        try request("POST", path, json: json, headers: headers)
    }

    /// /metrics as (sample name with labels) → value.
    /// Samples by name and labels, leaving out the `model_name` label every sample carries.
    func metricSamples() throws -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in try request("GET", "/metrics").text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let key = String(line[..<space]).replacingOccurrences(of: "{model_name=\"\(Self.modelId)\"}", with: "")
                .replacingOccurrences(of: "{model_name=\"\(Self.modelId)\",", with: "{")
            samples[key] = value
        }
        return samples
    }

    /// Polls /metrics until `condition` holds (at most ~30 s); returns the last samples.
    func waitForMetrics(_ condition: ([String: Double]) -> Bool) throws -> [String: Double] {
        var samples = try metricSamples()
        for _ in 0..<3000 where !condition(samples) {
            usleep(10_000)
            samples = try metricSamples()
        }
        return samples
    }
}

struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The `error` object of an OpenAI-shaped error body.
    func error() throws -> [String: Any] {
        try #require(try json()["error"] as? [String: Any])
    }

    /// The SSE events' data (comments dropped), in order.
    var events: [String] {
        text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }
}

/// A blocking HTTP/1.1 client over a plain socket: one request per connection, read to EOF.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            close(fd)
            throw Failure(description: "connect to port \(port) failed")
        }
        return fd
    }

    static func requestBytes(method: String, path: String, headers: [(String, String)], body: [UInt8]) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n"
        if !body.isEmpty || method == "POST" { head += "content-type: application/json\r\ncontent-length: \(body.count)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed") }
            offset += n
        }
    }

    /// Reads whatever arrives next (empty at EOF).
    static func readSome(_ fd: Int32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw Failure(description: "recv failed (errno \(errno))") }
        return Array(buffer[..<n])
    }

    static func request(port: Int, method: String, path: String, headers: [(String, String)] = [],
                        body: [UInt8] = []) throws -> RawResponse {
        let fd = try connect(port: port)
        defer { close(fd) }
        // A server refusing the request (e.g. 413) may answer and close before taking the whole
        // body, failing the write or resetting the connection after its answer: read what came.
        try? write(fd, requestBytes(method: method, path: path, headers: headers, body: body))
        var received: [UInt8] = []
        while let chunk = try? readSome(fd), !chunk.isEmpty { received += chunk }
        return try parse(received)
    }

    static func parse(_ bytes: [UInt8]) throws -> RawResponse {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0...(max(0, bytes.count - 4))).first(where: { Array(bytes[$0..<min($0 + 4, bytes.count)]) == separator })
        else { throw Failure(description: "no response head in \(bytes.count) bytes") }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(description: "bad status line \(lines[0])")
        }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(bytes[(end + 4)...])
        if headers.contains(where: { $0.0 == "transfer-encoding" && $0.1.lowercased() == "chunked" }) {
            body = try dechunk(body)
        }
        return RawResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard let lineEnd = (i..<(bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                  let size = Int(String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";")[0], radix: 16)
            else { throw Failure(description: "bad chunk at \(i)") }
            if size == 0 { break }
            out += bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]
            i = lineEnd + 2 + size + 2
        }
        return out
    }
}
