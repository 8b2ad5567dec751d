import Foundation
import ShiftAddChatTemplate
import ShiftAddHTTP
import ShiftAddScheduler
import Synchronization

/// The OpenAI-compatible API over a scheduler: routing, request ids, API keys, CORS, JSON and
/// event-stream answers, probes and metrics.
///
/// `handle` runs on the HTTP loop thread and never blocks: routing, keys and probes answer there;
/// the routes whose work grows with the request (JSON decoding, chat templates, tokenization) run
/// on `work`, so one large prompt does not hold up every other connection. A generation request
/// lives in a `GenerationLifecycle`, whose answer is written on `work` as the engine's events arrive.
public final class APIServer: HTTPRequestHandler {
    /// The model being served: set once it is loaded, so the listener can answer /live (and 503
    /// elsewhere) while a checkpoint converts or a bundle loads.
    struct Served: Sendable {
        let scheduler: Scheduler
        let modelId: String
        let chatTemplate: Result<ChatTemplate, APIError>?
        let bosToken: String
        let eosToken: String
        let constraints: ConstraintCache
    }

    let logger: Logger
    let metrics: Metrics
    /// Seconds without output after which a stream gets a `: keep-alive` comment.
    let keepAliveSeconds: Double
    /// Most choices (`n`) one request may ask for.
    let maxChoices: Int
    /// Ignored request fields already named in the debug log.
    let loggedIgnoredFields = Mutex(Set<String>())
    /// Unix time of construction, reported as the model's `created`.
    let created = Int(Date().timeIntervalSince1970)
    private let apiKeys: APIKeys
    private let cors: CORSPolicy
    let generations = GenerationLifecycle.Table()
    private let readiness = Mutex(Readiness.starting)
    private let served = Mutex<Served?>(nil)
    private let httpStatistics = Mutex<(@Sendable () -> HTTPStatistics?)?>(nil)
    /// Decodes, renders and tokenizes requests off the loop thread.
    private let work = DispatchQueue(label: "shiftadd.api", qos: .userInitiated, attributes: .concurrent)

    /// A handler with no model yet: /live answers, everything that needs the model answers 503
    /// until `attach` and `setReady(true)`.
    /// `apiKeys` empty: no authentication. `corsOrigins` empty: no CORS headers; "*" allows any origin.
    public init(apiKeys: [String], corsOrigins: [String], logger: Logger, metrics: Metrics, keepAliveSeconds: Double = 5,
                maxChoices: Int = APIServer.defaultMaxChoices) {
        self.logger = logger
        self.metrics = metrics
        self.keepAliveSeconds = keepAliveSeconds
        self.maxChoices = maxChoices
        self.apiKeys = APIKeys(apiKeys)
        cors = CORSPolicy(origins: corsOrigins)
    }

    /// A handler serving `scheduler`'s model from the start (readiness still waits for `setReady`).
    public convenience init(scheduler: Scheduler, modelId: String, chatTemplate: String?, bosToken: String, eosToken: String,
                            apiKeys: [String], corsOrigins: [String], logger: Logger, metrics: Metrics,
                            keepAliveSeconds: Double = 5, maxChoices: Int = APIServer.defaultMaxChoices) {
        self.init(apiKeys: apiKeys, corsOrigins: corsOrigins, logger: logger, metrics: metrics, keepAliveSeconds: keepAliveSeconds,
                  maxChoices: maxChoices)
        attach(scheduler: scheduler, modelId: modelId, chatTemplate: chatTemplate, bosToken: bosToken, eosToken: eosToken)
    }

    /// Serves `scheduler`'s model. `chatTemplate`: the bundle's Jinja chat template (nil: chat
    /// completions answer 400).
    public func attach(scheduler: Scheduler, modelId: String, chatTemplate: String?, bosToken: String, eosToken: String) {
        let logger = logger
        let template = chatTemplate.map { source in
            Result { try ChatTemplate(source: source) }.mapError { error in
                logger.error("the model's chat template does not parse; chat completions will fail",
                             [("error", "\(error)")])
                return APIError.server("the model's chat template does not parse: \(error)")
            }
        }
        let model = Served(scheduler: scheduler, modelId: modelId, chatTemplate: template, bosToken: bosToken, eosToken: eosToken,
                           constraints: ConstraintCache(tokenizer: scheduler.tokenizer))
        served.withLock { $0 = model }
    }

    /// The attached model; only routes that run after the attachment check read it.
    private var model: Served { served.withLock { $0 }! }
    var scheduler: Scheduler { model.scheduler }
    var modelId: String { model.modelId }
    var chatTemplate: Result<ChatTemplate, APIError>? { model.chatTemplate }
    var bosToken: String { model.bosToken }
    var eosToken: String { model.eosToken }
    var constraints: ConstraintCache { model.constraints }
    private var isAttached: Bool { served.withLock { $0 != nil } }

    /// /health and /ready answer 503 until ready, and again (with new generations refused) once
    /// set back to false for draining.
    public func setReady(_ ready: Bool) {
        readiness.withLock { state in
            state = ready ? .ready : (state == .starting ? .starting : .draining)
        }
    }

    /// Generations submitted and not yet finished or abandoned by their client.
    public var activeGenerations: Int { generations.count }

    /// Where /metrics reads the front end's counters. The HTTPServer is made after this handler and
    /// holds it, so capture the server weakly: `api.setHTTPStatistics { [weak http] in http?.statistics() }`.
    public func setHTTPStatistics(_ source: @escaping @Sendable () -> HTTPStatistics?) {
        httpStatistics.withLock { $0 = source }
    }

    public static let defaultMaxChoices = 8

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        let route = Route.match(path: request.path)
        let exchange = Exchange(
            request: request, responder: responder, requestID: RequestID.make(clientValue: request.header("x-request-id")),
            route: route?.rawValue ?? Route.unknownLabel, corsHeaders: cors.headers(origin: request.header("origin")),
            logger: logger, metrics: metrics)
        guard let route else { return exchange.fail(.notFound(path: request.path)) }
        if request.method == "OPTIONS" {
            return exchange.respond(status: 204, contentType: nil, body: [],
                                    headers: [("allow", "\(route.method), OPTIONS")]
                                        + cors.preflightHeaders(origin: request.header("origin")))
        }
        guard request.method == route.method else {
            return exchange.fail(.methodNotAllowed(request.method, path: request.path, allowed: [route.method]))
        }
        if !route.isOpen, let error = authenticate(request) { return exchange.fail(error) }
        if !isAttached, ![.live, .health, .ready, .metrics].contains(route) {
            return exchange.fail(readinessError ?? .unavailable("the server is not ready yet", code: "not_ready"))
        }
        switch route {
        case .completions, .chatCompletions:
            // Registered here, on the loop thread, so a disconnect that comes before `work` gets to
            // the request still finds it (and the request is then never submitted).
            let lifecycle = GenerationLifecycle(id: request.id, exchange: exchange, table: generations, logger: logger,
                                                metrics: metrics, work: work)
            lifecycle.prepare { [self] in
                if route == .completions { completions(request, lifecycle) } else { chatCompletions(request, lifecycle) }
            }
        case .models: exchange.respond(json: .object([("object", .string("list")), ("data", .array([modelObject]))]))
        case .model: model(request, exchange)
        case .tokenize: work.async { [self] in tokenize(request, exchange) }
        case .detokenize: work.async { [self] in detokenize(request, exchange) }
        case .tokenizerInfo: exchange.respond(json: tokenizerInfo)
        case .live: exchange.respond(json: .object([("status", .string("ok"))]))
        case .health, .ready: probe(exchange)
        case .metrics: renderMetrics(exchange)
        }
    }

    public func cancelled(_ id: HTTPRequestID) {
        generations[id]?.clientLeft()
    }

    var readinessError: APIError? { readiness.withLock { $0.error } }

    private func authenticate(_ request: HTTPRequest) -> APIError? {
        guard apiKeys.enabled else { return nil }
        guard let key = APIKeys.presented(authorization: request.header("authorization"),
                                          apiKeyHeader: request.header("x-api-key")) else {
            return .missingAPIKey()
        }
        return apiKeys.accepts(key) ? nil : .wrongAPIKey()
    }

    private func probe(_ exchange: Exchange) {
        if let error = readinessError { return exchange.fail(error) }
        exchange.respond(json: .object([("status", .string("ok"))]))
    }

    private func renderMetrics(_ exchange: Exchange) {
        let http = httpStatistics.withLock { $0 }?() ?? nil
        let model = served.withLock { $0 }
        let stats = model?.scheduler.stats()
            ?? SchedulerStats(queued: 0, running: 0, kvBlocksTotal: 0, kvBlocksUsed: 0, kvBlocksCached: 0, kvBlocksFree: 0,
                              preemptions: 0, rejections: 0, steps: 0)
        let text = metrics.render(scheduler: stats, http: http, modelName: model?.modelId ?? "")
        exchange.respond(status: 200, contentType: PrometheusText.contentType, body: Array(text.utf8))
    }
}
