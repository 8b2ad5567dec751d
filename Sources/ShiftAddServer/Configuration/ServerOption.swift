/// The options of `shiftadd serve`. Each is set by the flag `--name`, the environment variable
/// `SHIFTADD_NAME` (upper case, `_` for `-`) or the config file key `name` (`_` for `-`).
public enum ServerOption: String, CaseIterable, Sendable {
    case host, port
    case tlsPort = "tls-port", tlsCert = "tls-cert", tlsKey = "tls-key"
    case apiKeysFile = "api-keys-file"
    case model
    case modelId = "model-id"
    case chatTemplate = "chat-template"
    case bundleCache = "bundle-cache"
    case threads
    case maxBatchTokens = "max-batch-tokens"
    case kvCacheMemory = "kv-cache-memory"
    case maxQueued = "max-queued"
    case maxRunning = "max-running"
    case maxChoices = "max-choices"
    case contextLimit = "context-limit"
    case drainTimeout = "drain-timeout"
    case corsOrigins = "cors-origins"
    case logLevel = "log-level"
    case logFormat = "log-format"
    case maxBodyBytes = "max-body-bytes"
    case maxHeaderBytes = "max-header-bytes"
    case maxConnections = "max-connections"
    case maxConcurrentStreams = "max-concurrent-streams"
    case headerTimeout = "header-timeout"
    case idleTimeout = "idle-timeout"

    /// The flag naming the config file, and its environment variable; not a file key itself.
    public static let configFlag = "config"
    public static let configEnvironmentName = "SHIFTADD_CONFIG"

    public var flag: String { "--" + rawValue }
    public var environmentName: String { "SHIFTADD_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_") }
    public var fileKey: String { rawValue.replacingOccurrences(of: "-", with: "_") }

    /// Placeholder for the value in help text.
    public var valueName: String {
        switch self {
        case .host: "ADDRESS"
        case .port, .tlsPort: "PORT"
        case .tlsCert, .tlsKey, .apiKeysFile, .model, .chatTemplate: "PATH"
        case .bundleCache: "DIR"
        case .modelId: "NAME"
        case .threads, .maxBatchTokens, .maxQueued, .maxRunning, .maxChoices, .contextLimit, .maxConnections,
             .maxConcurrentStreams: "N"
        case .kvCacheMemory, .maxBodyBytes, .maxHeaderBytes: "SIZE"
        case .drainTimeout, .headerTimeout, .idleTimeout: "DURATION"
        case .corsOrigins: "ORIGINS"
        case .logLevel: "LEVEL"
        case .logFormat: "FORMAT"
        }
    }

    /// Kind of value, as the reference documentation states it.
    public var valueType: String {
        switch self {
        case .host, .modelId: "string"
        case .tlsCert, .tlsKey, .apiKeysFile, .model, .chatTemplate, .bundleCache: "path"
        case .port, .tlsPort: "integer 0-65535"
        case .threads, .maxBatchTokens, .maxQueued, .maxRunning, .maxChoices, .contextLimit, .maxConnections,
             .maxConcurrentStreams:
            "integer " + ConfigurationValues.describe(integerRange)
        case .kvCacheMemory, .maxBodyBytes, .maxHeaderBytes: "size " + ConfigurationValues.describe(sizes: sizeRange)
        case .drainTimeout, .headerTimeout, .idleTimeout: "duration " + ConfigurationValues.describe(durationRange)
        case .corsOrigins: "list of origins"
        case .logLevel: LogLevel.allCases.map(\.rawValue).joined(separator: " | ")
        case .logFormat: LogFormat.allCases.map(\.rawValue).joined(separator: " | ")
        }
    }

    public var help: String {
        switch self {
        case .host: "Address to listen on; 0.0.0.0 for every IPv4 interface"
        case .port: "Cleartext port (HTTP/1.1 and h2c); 0 = any free port"
        case .tlsPort: "HTTPS port (h2 and http/1.1 by ALPN); needs tls-cert and tls-key"
        case .tlsCert: "PEM certificate chain for the HTTPS port"
        case .tlsKey: "PEM private key for the HTTPS port"
        case .apiKeysFile: "File with one API key per line (blank lines and # comments skipped); unset = no keys needed"
        case .model: "Bundle (.sabundle) or checkpoint to serve (a checkpoint is converted on first use)"
        case .modelId: "Model name in the API; unset = the model file name up to its first dot"
        case .chatTemplate: "Jinja chat template file for chat completions, replacing the model's; unset = the model's own (none: chat requests get 400 no_chat_template)"
        case .bundleCache: "Directory for bundles converted from a checkpoint; unset = $XDG_CACHE_HOME/shiftadd/bundles"
        case .threads: "Compute threads; 0 = one per available core"
        case .maxBatchTokens: "Most tokens in one engine step (prompt chunks plus decoded tokens)"
        case .kvCacheMemory: "KV cache budget, e.g. 512MiB; unset = max-running full contexts, at most 1GiB and a quarter of memory"
        case .maxQueued: "Most requests waiting for a batch slot; more are refused with 429"
        case .maxRunning: "Most sequences generating at once"
        case .maxChoices: "Most choices (n) one request may ask for"
        case .contextLimit: "Most tokens per sequence (prompt + completion); unset = the model's context length"
        case .drainTimeout: "After SIGTERM, how long in-flight requests may finish before exit, e.g. 30s"
        case .corsOrigins: "Comma-separated origins allowed by CORS (scheme://host[:port], or *); empty = CORS off"
        case .logLevel: "Least severe log level written"
        case .logFormat: "Log lines as text (key=value) or json (one object per line)"
        case .maxBodyBytes: "Largest request body; larger gets 413"
        case .maxHeaderBytes: "Largest request header block; larger gets 431"
        case .maxConnections: "Most open client connections; more are refused"
        case .maxConcurrentStreams: "Most concurrent HTTP/2 streams per connection"
        case .headerTimeout: "Time a client has to send a request's headers"
        case .idleTimeout: "Time an idle keep-alive connection stays open"
        }
    }

    var integerRange: ClosedRange<Int> {
        switch self {
        case .port, .tlsPort: 0...65535
        case .threads: 0...1024
        case .maxBatchTokens: 1...65536
        case .maxQueued, .maxConnections: 1...1_000_000
        case .maxRunning: 1...4096
        case .maxChoices: 1...128
        case .contextLimit: 1...1_048_576
        case .maxConcurrentStreams: 1...65536
        default: 0...0
        }
    }

    var sizeRange: ClosedRange<Int> {
        switch self {
        case .kvCacheMemory: 1 << 20...1 << 40
        case .maxBodyBytes: 1 << 10...1 << 30
        case .maxHeaderBytes: 1 << 10...1 << 20
        default: 0...0
        }
    }

    var durationRange: ClosedRange<Double> {
        switch self {
        case .drainTimeout: 0...86400
        case .headerTimeout: 0.001...3600
        case .idleTimeout: 0.001...86400
        default: 0...0
        }
    }
}
