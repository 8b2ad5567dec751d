/// Reading an option's value into a configuration, and showing it back.
extension ServerOption {
    private typealias V = ConfigurationValues

    func apply(_ value: ConfigurationValue, to c: inout ServerConfiguration) throws(InvalidValue) {
        switch self {
        case .host: c.host = try V.word(value, what: "a host address")
        case .port: c.port = try V.integer(value, integerRange)
        case .tlsPort: c.tlsPort = try V.optional(value) { v throws(InvalidValue) in try V.integer(v, integerRange) }
        case .tlsCert: c.tlsCertificate = try V.optional(value, V.path)
        case .tlsKey: c.tlsKey = try V.optional(value, V.path)
        case .apiKeysFile: c.apiKeysFile = try V.optional(value, V.path)
        case .model: c.model = try V.optional(value, V.path)
        case .modelId: c.modelId = try V.optional(value) { v throws(InvalidValue) in try V.word(v, what: "a model name") }
        case .chatTemplate: c.chatTemplate = try V.optional(value, V.path)
        case .bundleCache: c.bundleCache = try V.optional(value, V.path)
        case .threads: c.threads = try V.integer(value, integerRange)
        case .maxBatchTokens: c.maxBatchTokens = try V.integer(value, integerRange)
        case .kvCacheMemory: c.kvCacheBytes = try V.optional(value) { v throws(InvalidValue) in try V.size(v, sizeRange) }
        case .maxQueued: c.maxQueued = try V.integer(value, integerRange)
        case .maxRunning: c.maxRunning = try V.integer(value, integerRange)
        case .maxChoices: c.maxChoices = try V.integer(value, integerRange)
        case .contextLimit: c.contextLimit = try V.optional(value) { v throws(InvalidValue) in try V.integer(v, integerRange) }
        case .drainTimeout: c.drainTimeoutSeconds = try V.seconds(value, durationRange)
        case .corsOrigins: c.corsOrigins = value == .null ? [] : try V.origins(value)
        case .logLevel: c.logLevel = try V.choice(value, LogLevel.self)
        case .logFormat: c.logFormat = try V.choice(value, LogFormat.self)
        case .maxBodyBytes: c.maxBodyBytes = try V.size(value, sizeRange)
        case .maxHeaderBytes: c.maxHeaderBytes = try V.size(value, sizeRange)
        case .maxConnections: c.maxConnections = try V.integer(value, integerRange)
        case .maxConcurrentStreams: c.maxConcurrentStreams = try V.integer(value, integerRange)
        case .headerTimeout: c.headerTimeoutSeconds = try V.seconds(value, durationRange)
        case .idleTimeout: c.idleTimeoutSeconds = try V.seconds(value, durationRange)
        }
    }

    /// The value in `c` as a flag or environment variable would spell it; nil when unset.
    public func text(in c: ServerConfiguration) -> String? {
        switch self {
        case .host: c.host
        case .port: String(c.port)
        case .tlsPort: c.tlsPort.map(String.init)
        case .tlsCert: c.tlsCertificate
        case .tlsKey: c.tlsKey
        case .apiKeysFile: c.apiKeysFile
        case .model: c.model
        case .modelId: c.modelId
        case .chatTemplate: c.chatTemplate
        case .bundleCache: c.bundleCache
        case .threads: String(c.threads)
        case .maxBatchTokens: String(c.maxBatchTokens)
        case .kvCacheMemory: c.kvCacheBytes.map(V.formatSize)
        case .maxQueued: String(c.maxQueued)
        case .maxRunning: String(c.maxRunning)
        case .maxChoices: String(c.maxChoices)
        case .contextLimit: c.contextLimit.map(String.init)
        case .drainTimeout: V.formatSeconds(c.drainTimeoutSeconds)
        case .corsOrigins: c.corsOrigins.joined(separator: ",")
        case .logLevel: c.logLevel.rawValue
        case .logFormat: c.logFormat.rawValue
        case .maxBodyBytes: V.formatSize(c.maxBodyBytes)
        case .maxHeaderBytes: V.formatSize(c.maxHeaderBytes)
        case .maxConnections: String(c.maxConnections)
        case .maxConcurrentStreams: String(c.maxConcurrentStreams)
        case .headerTimeout: V.formatSeconds(c.headerTimeoutSeconds)
        case .idleTimeout: V.formatSeconds(c.idleTimeoutSeconds)
        }
    }
}
