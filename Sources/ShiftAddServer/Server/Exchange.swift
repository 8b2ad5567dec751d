import Foundation
import ShiftAddHTTP
import Synchronization

/// One request and its answer: adds `X-Request-Id` and CORS headers to whatever is sent, and when
/// the answer is complete (or the client leaves) writes the access log line and the request
/// metrics, exactly once. Thread-safe: a generation answers from its request's queue while a
/// disconnect arrives on the loop thread.
final class Exchange: Sendable {
    let requestID: String
    let method: String
    let path: String
    /// The route's pattern, the metrics label (unknown paths share one label).
    let route: String
    private let responder: HTTPResponder
    private let remoteAddress: String
    private let baseHeaders: [(String, String)]
    private let start = ContinuousClock.now
    private let logger: Logger
    private let metrics: Metrics
    private let state = Mutex(State())

    private struct State {
        var streaming = false
        var done = false
        /// Extra fields for the access log line, e.g. token counts.
        var logFields: [(String, String)] = []
    }

    /// Status logged for a request whose client went away first (nginx's convention).
    static let clientClosedStatus = 499

    init(request: HTTPRequest, responder: HTTPResponder, requestID: String, route: String,
         corsHeaders: [(String, String)], logger: Logger, metrics: Metrics) {
        self.requestID = requestID
        method = request.method
        path = request.path
        self.route = route
        self.responder = responder
        remoteAddress = request.remoteAddress
        baseHeaders = [("x-request-id", requestID)] + corsHeaders
        self.logger = logger
        self.metrics = metrics
    }

    func addLogFields(_ fields: [(String, String)]) {
        state.withLock { $0.logFields += fields }
    }

    func respond(status: Int, contentType: String?, body: [UInt8], headers: [(String, String)] = []) {
        guard state.withLock({ s in
            guard !s.done, !s.streaming else { return false }
            s.done = true
            return true
        }) else { return }
        let type = contentType.map { [("content-type", $0)] } ?? []
        completed(status: status)
        responder.respond(status: status, headers: type + baseHeaders + headers, body: body)
    }

    func respond(json: JSONValue) {
        respond(status: 200, contentType: "application/json", body: json.serialized())
    }

    func fail(_ error: APIError) {
        respond(status: error.status, contentType: "application/json", body: error.json.serialized(),
                headers: error.headers.sorted { $0.key < $1.key }.map { ($0.key.lowercased(), $0.value) })
    }

    /// Starts a 200 event stream; later bytes go through `send`.
    func startEventStream() {
        guard state.withLock({ s in
            guard !s.done, !s.streaming else { return false }
            s.streaming = true
            return true
        }) else { return }
        responder.startStream(status: 200, headers: ServerSentEvents.headers + baseHeaders)
    }

    func send(_ bytes: [UInt8]) {
        responder.send(bytes)
    }

    func finishStream() {
        guard state.withLock({ s in
            guard s.streaming, !s.done else { return false }
            s.done = true
            return true
        }) else { return }
        completed(status: 200)
        responder.finish()
    }

    /// The client closed the connection or reset the stream before the answer was complete.
    func clientWentAway() {
        guard state.withLock({ s in
            guard !s.done else { return false }
            s.done = true
            return true
        }) else { return }
        completed(status: Self.clientClosedStatus)
    }

    /// The access log line (never with credentials) and the request metrics, recorded before the
    /// answer's last bytes go out so that a client that has seen the end also sees them counted.
    private func completed(status: Int) {
        let seconds = (ContinuousClock.now - start).seconds
        metrics.recordRequest(route: route, status: status, seconds: seconds)
        let extra = state.withLock { $0.logFields }
        let fields = [
            ("request_id", requestID), ("method", method), ("path", path), ("status", String(status)),
            ("duration_ms", String(format: "%.1f", seconds * 1000)), ("remote", remoteAddress),
        ] + extra
        logger.log(status == 500 ? .error : .info, "request", fields)
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
