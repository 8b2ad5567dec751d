import Foundation

/// Every setting of `shiftadd serve`. The initial values are the defaults; `load` layers a JSON
/// file, `SHIFTADD_*` environment variables and flags over them (see `ServerOption`).
public struct ServerConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// HTTPS listener (h2 and http/1.1 by ALPN); set together with the certificate and key.
    public var tlsPort: Int? = nil
    public var tlsCertificate: String? = nil
    public var tlsKey: String? = nil
    /// File with one accepted API key per line; nil = no authentication.
    public var apiKeysFile: String? = nil
    /// A bundle, or a checkpoint the server converts on first use.
    public var model: String? = nil
    /// Name clients send as `model`; nil = derived from the model file name.
    public var modelId: String? = nil
    /// A Jinja chat template file replacing the model's own.
    public var chatTemplate: String? = nil
    /// Directory for bundles converted from a checkpoint; nil = `$XDG_CACHE_HOME/shiftadd/bundles`
    /// (`~/.cache/shiftadd/bundles`).
    public var bundleCache: String? = nil
    /// Compute threads; 0 = one per available core (see `effectiveThreads`).
    public var threads = 0
    public var maxBatchTokens = 512
    /// KV cache budget in bytes; nil = derived by the scheduler from the model, `maxRunning` and
    /// physical memory (at most 1 GiB).
    public var kvCacheBytes: Int? = nil
    public var maxQueued = 256
    public var maxRunning = 64
    /// Most choices (`n`) per request.
    public var maxChoices = 8
    /// Tokens per sequence (prompt + completion); nil = the model's context length.
    public var contextLimit: Int? = nil
    /// How long in-flight requests may run after SIGTERM before the server exits anyway.
    public var drainTimeoutSeconds: Double = 30
    /// Origins allowed by CORS; empty = no CORS headers, ["*"] = any origin.
    public var corsOrigins: [String] = []
    public var logLevel: LogLevel = .info
    public var logFormat: LogFormat = .text
    public var maxBodyBytes = 4 * 1024 * 1024
    public var maxHeaderBytes = 16 * 1024
    public var maxConnections = 1024
    public var maxConcurrentStreams = 128
    public var headerTimeoutSeconds: Double = 10
    public var idleTimeoutSeconds: Double = 60

    public init() {}

    /// `threads`, with 0 resolved to the number of available cores.
    public var effectiveThreads: Int {
        threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Reads the settings for `shiftadd serve`. Precedence: flags > `SHIFTADD_*` environment >
    /// the JSON file named by `--config` or `SHIFTADD_CONFIG` > defaults. Every value given in any
    /// source is checked, so a typo is reported even when a higher source overrides it.
    /// `arguments` excludes the program and subcommand names.
    public static func load(arguments: [String], environment: [String: String]) throws(ConfigurationError) -> ServerConfiguration {
        let flags = try ConfigurationSources.flags(arguments)
        var configPath: (path: String, origin: ConfigurationOrigin)?
        if let value = environment[ServerOption.configEnvironmentName] {
            configPath = (value, .environment(ServerOption.configEnvironmentName))
        }
        for flag in flags where flag.option == nil { configPath = (flag.value, flag.origin) }

        var layers: [ConfigurationSources.Setting] = []
        if let configPath {
            layers += try ConfigurationSources.file(path: configPath.path, origin: configPath.origin)
        }
        layers += ConfigurationSources.environment(environment)
        layers += flags.compactMap { flag in flag.option.map { .init(option: $0, value: flag.rawValue, origin: flag.origin) } }

        var configuration = ServerConfiguration()
        var origins: [ServerOption: ConfigurationOrigin] = [:]
        for setting in layers {
            do throws(InvalidValue) {
                try setting.option.apply(setting.value, to: &configuration)
            } catch {
                throw ConfigurationError(option: setting.option.rawValue, origin: setting.origin,
                                         value: setting.value.display, reason: error.reason)
            }
            origins[setting.option] = setting.origin
        }
        try configuration.checkConsistency(origins: origins)
        return configuration
    }

    /// Rules that involve more than one option.
    private func checkConsistency(origins: [ServerOption: ConfigurationOrigin]) throws(ConfigurationError) {
        let tls: [(ServerOption, Bool)] = [(.tlsPort, tlsPort != nil), (.tlsCert, tlsCertificate != nil), (.tlsKey, tlsKey != nil)]
        if let given = tls.first(where: { $0.1 }), let missing = tls.first(where: { !$0.1 }) {
            let origin = origins[given.0] ?? .default
            throw ConfigurationError(option: missing.0.rawValue, origin: .default, value: nil,
                                     reason: "missing; \(given.0.rawValue), \(ServerOption.tlsCert.rawValue) and \(ServerOption.tlsKey.rawValue) "
                                         + "go together and \(given.0.rawValue) is set by \(origin)")
        }
        if let tlsPort, tlsPort != 0, tlsPort == port {
            throw ConfigurationError(option: ServerOption.tlsPort.rawValue, origin: origins[.tlsPort] ?? .default,
                                     value: String(tlsPort), reason: "is the same as port; the two listeners need different ports")
        }
    }
}
