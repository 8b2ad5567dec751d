import Foundation
import ShiftAddServer
import Testing

/// Every option read from each of its three sources, and the order in which sources win.
@Suite struct ConfigurationSourceTests {
    /// Writes `json` to a fresh temporary file and returns its path.
    static func writeConfig(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "shiftadd-config-\(UUID().uuidString).json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func noSourcesGiveTheDefaults() throws {
        let c = try ServerConfiguration.load(arguments: [], environment: [:])
        #expect(c == ServerConfiguration())
        #expect(c.host == "127.0.0.1" && c.port == 8080 && c.tlsPort == nil && c.model == nil)
        #expect(c.threads == 0 && c.effectiveThreads == ProcessInfo.processInfo.activeProcessorCount)
        #expect(c.maxBatchTokens == 512 && c.maxQueued == 256 && c.maxRunning == 64 && c.kvCacheBytes == nil)
        #expect(c.drainTimeoutSeconds == 30 && c.headerTimeoutSeconds == 10 && c.idleTimeoutSeconds == 60)
        #expect(c.maxBodyBytes == 4_194_304 && c.maxHeaderBytes == 16_384 && c.maxConnections == 1024)
        #expect(c.maxConcurrentStreams == 128 && c.corsOrigins.isEmpty && c.logLevel == .info && c.logFormat == .text)
    }

    @Test func everyOptionFromFlags() throws {
        let arguments = [
            "--host", "0.0.0.0", "--port", "9000", "--tls-port", "9443", "--tls-cert", "/etc/tls/cert.pem",
            "--tls-key=/etc/tls/key.pem", "--api-keys-file", "/run/keys", "--model", "/models/m.gguf",
            "--model-id", "smol", "--bundle-cache", "/cache", "--threads", "3", "--max-batch-tokens", "256",
            "--kv-cache-memory", "512MiB", "--max-queued", "10", "--max-running", "4", "--context-limit", "1024",
            "--drain-timeout", "45s", "--cors-origins", "https://a.example, http://b.example:3000",
            "--log-level", "debug", "--log-format", "json", "--max-body-bytes", "1MiB", "--max-header-bytes", "8KiB",
            "--max-connections", "100", "--max-concurrent-streams", "16", "--header-timeout", "500ms", "--idle-timeout", "2m",
        ]
        var expected = ServerConfiguration()
        expected.host = "0.0.0.0"
        expected.port = 9000
        expected.tlsPort = 9443
        expected.tlsCertificate = "/etc/tls/cert.pem"
        expected.tlsKey = "/etc/tls/key.pem"
        expected.apiKeysFile = "/run/keys"
        expected.model = "/models/m.gguf"
        expected.modelId = "smol"
        expected.bundleCache = "/cache"
        expected.threads = 3
        expected.maxBatchTokens = 256
        expected.kvCacheBytes = 512 << 20
        expected.maxQueued = 10
        expected.maxRunning = 4
        expected.contextLimit = 1024
        expected.drainTimeoutSeconds = 45
        expected.corsOrigins = ["https://a.example", "http://b.example:3000"]
        expected.logLevel = .debug
        expected.logFormat = .json
        expected.maxBodyBytes = 1 << 20
        expected.maxHeaderBytes = 8 << 10
        expected.maxConnections = 100
        expected.maxConcurrentStreams = 16
        expected.headerTimeoutSeconds = 0.5
        expected.idleTimeoutSeconds = 120
        #expect(try ServerConfiguration.load(arguments: arguments, environment: [:]) == expected)
    }

    @Test func everyOptionFromEnvironment() throws {
        let environment = [
            "SHIFTADD_HOST": "::1", "SHIFTADD_PORT": "0", "SHIFTADD_TLS_PORT": "8443", "SHIFTADD_TLS_CERT": "c.pem",
            "SHIFTADD_TLS_KEY": "k.pem", "SHIFTADD_API_KEYS_FILE": "keys.txt", "SHIFTADD_MODEL": "m.sabundle",
            "SHIFTADD_MODEL_ID": "my-model", "SHIFTADD_BUNDLE_CACHE": "/tmp/bundles", "SHIFTADD_THREADS": "2",
            "SHIFTADD_MAX_BATCH_TOKENS": "64", "SHIFTADD_KV_CACHE_MEMORY": "2GiB", "SHIFTADD_MAX_QUEUED": "1",
            "SHIFTADD_MAX_RUNNING": "1", "SHIFTADD_CONTEXT_LIMIT": "2048", "SHIFTADD_DRAIN_TIMEOUT": "0",
            "SHIFTADD_CORS_ORIGINS": "*", "SHIFTADD_LOG_LEVEL": "error", "SHIFTADD_LOG_FORMAT": "text",
            "SHIFTADD_MAX_BODY_BYTES": "1000000", "SHIFTADD_MAX_HEADER_BYTES": "4kB", "SHIFTADD_MAX_CONNECTIONS": "5",
            "SHIFTADD_MAX_CONCURRENT_STREAMS": "1", "SHIFTADD_HEADER_TIMEOUT": "1.5", "SHIFTADD_IDLE_TIMEOUT": "1h",
            "SHIFTADD_MODEL_DIR": "/not/an/option", "PATH": "/usr/bin",
        ]
        var expected = ServerConfiguration()
        expected.host = "::1"
        expected.port = 0
        expected.tlsPort = 8443
        expected.tlsCertificate = "c.pem"
        expected.tlsKey = "k.pem"
        expected.apiKeysFile = "keys.txt"
        expected.model = "m.sabundle"
        expected.modelId = "my-model"
        expected.bundleCache = "/tmp/bundles"
        expected.threads = 2
        expected.maxBatchTokens = 64
        expected.kvCacheBytes = 2 << 30
        expected.maxQueued = 1
        expected.maxRunning = 1
        expected.contextLimit = 2048
        expected.drainTimeoutSeconds = 0
        expected.corsOrigins = ["*"]
        expected.logLevel = .error
        expected.logFormat = .text
        expected.maxBodyBytes = 1_000_000
        expected.maxHeaderBytes = 4000
        expected.maxConnections = 5
        expected.maxConcurrentStreams = 1
        expected.headerTimeoutSeconds = 1.5
        expected.idleTimeoutSeconds = 3600
        #expect(try ServerConfiguration.load(arguments: [], environment: environment) == expected)
    }

    @Test func everyOptionFromFile() throws {
        let path = try Self.writeConfig("""
            {"host": "10.0.0.1", "port": 8081, "tls_port": 8444, "tls_cert": "/a/cert.pem", "tls_key": "/a/key.pem",
             "api_keys_file": "/a/keys", "model": "/a/model.gguf", "model_id": "served", "bundle_cache": "/a/cache",
             "threads": 8, "max_batch_tokens": 1024, "kv_cache_memory": 268435456, "max_queued": 1000,
             "max_running": 128, "context_limit": 512, "drain_timeout": 12.5, "cors_origins": ["http://localhost:5173"],
             "log_level": "warning", "log_format": "json", "max_body_bytes": "64KiB", "max_header_bytes": 2048,
             "max_connections": 50000, "max_concurrent_streams": 256, "header_timeout": "3s", "idle_timeout": 90}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var expected = ServerConfiguration()
        expected.host = "10.0.0.1"
        expected.port = 8081
        expected.tlsPort = 8444
        expected.tlsCertificate = "/a/cert.pem"
        expected.tlsKey = "/a/key.pem"
        expected.apiKeysFile = "/a/keys"
        expected.model = "/a/model.gguf"
        expected.modelId = "served"
        expected.bundleCache = "/a/cache"
        expected.threads = 8
        expected.maxBatchTokens = 1024
        expected.kvCacheBytes = 256 << 20
        expected.maxQueued = 1000
        expected.maxRunning = 128
        expected.contextLimit = 512
        expected.drainTimeoutSeconds = 12.5
        expected.corsOrigins = ["http://localhost:5173"]
        expected.logLevel = .warning
        expected.logFormat = .json
        expected.maxBodyBytes = 64 << 10
        expected.maxHeaderBytes = 2048
        expected.maxConnections = 50000
        expected.maxConcurrentStreams = 256
        expected.headerTimeoutSeconds = 3
        expected.idleTimeoutSeconds = 90
        #expect(try ServerConfiguration.load(arguments: ["--config", path], environment: [:]) == expected)
        #expect(try ServerConfiguration.load(arguments: [], environment: ["SHIFTADD_CONFIG": path]) == expected)
    }

    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() throws {
        let path = try Self.writeConfig(#"{"port": 1001, "host": "file.host", "max_running": 7}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = ["SHIFTADD_CONFIG": path, "SHIFTADD_PORT": "1002", "SHIFTADD_THREADS": "5"]
        let all = try ServerConfiguration.load(arguments: ["--port", "1003"], environment: environment)
        #expect(all.port == 1003)
        let withoutFlag = try ServerConfiguration.load(arguments: [], environment: environment)
        #expect(withoutFlag.port == 1002)
        let fileOnly = try ServerConfiguration.load(arguments: [], environment: ["SHIFTADD_CONFIG": path])
        #expect(fileOnly.port == 1001)
        #expect(try ServerConfiguration.load(arguments: [], environment: [:]).port == 8080)
        // Sources merge option by option: each option takes its own highest source.
        #expect(all.host == "file.host" && all.maxRunning == 7 && all.threads == 5 && all.maxQueued == 256)
    }

    @Test func configFlagBeatsConfigEnvironmentVariable() throws {
        let first = try Self.writeConfig(#"{"port": 2001}"#)
        let second = try Self.writeConfig(#"{"port": 2002}"#)
        defer { for p in [first, second] { try? FileManager.default.removeItem(atPath: p) } }
        let c = try ServerConfiguration.load(arguments: ["--config=" + second], environment: ["SHIFTADD_CONFIG": first])
        #expect(c.port == 2002)
    }

    @Test func laterFlagWinsAndEmptyValueUnsetsAnOptionalSetting() throws {
        #expect(try ServerConfiguration.load(arguments: ["--port", "1", "--port=2"], environment: [:]).port == 2)
        let path = try Self.writeConfig(#"{"kv_cache_memory": "1GiB", "context_limit": 100, "model": "/m"}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = try ServerConfiguration.load(arguments: ["--model", ""],
                                             environment: ["SHIFTADD_CONFIG": path, "SHIFTADD_KV_CACHE_MEMORY": ""])
        #expect(c.kvCacheBytes == nil && c.model == nil && c.contextLimit == 100)
    }

    @Test(arguments: [
        ("1048576", 1_048_576), ("1MiB", 1 << 20), ("1mi", 1 << 20), ("1.5MiB", 1_572_864), ("2M", 2_000_000),
        ("3MB", 3_000_000), ("1GiB", 1 << 30), ("1g", 1_000_000_000), ("1TiB", 1 << 40), ("2048KiB", 2 << 20),
    ])
    func sizesTakeDecimalAndBinaryUnits(text: String, bytes: Int) throws {
        let c = try ServerConfiguration.load(arguments: ["--kv-cache-memory", text], environment: [:])
        #expect(c.kvCacheBytes == bytes)
    }

    @Test(arguments: [("30", 30.0), ("30s", 30), ("250ms", 0.25), ("1.5m", 90), ("2h", 7200), ("0", 0)])
    func durationsTakeUnits(text: String, seconds: Double) throws {
        let c = try ServerConfiguration.load(arguments: ["--drain-timeout", text], environment: [:])
        #expect(c.drainTimeoutSeconds == seconds)
    }

    @Test func settingsMapOntoTheHTTPServerAndScheduler() throws {
        let c = try ServerConfiguration.load(arguments: [
            "--host", "0.0.0.0", "--port", "9000", "--tls-port", "9443", "--tls-cert", "c", "--tls-key", "k",
            "--max-header-bytes", "8KiB", "--max-body-bytes", "1MiB", "--max-concurrent-streams", "7",
            "--max-connections", "9", "--header-timeout", "1500ms", "--idle-timeout", "2m",
            "--max-batch-tokens", "128", "--max-running", "3", "--max-queued", "11", "--kv-cache-memory", "64MiB",
            "--context-limit", "300",
        ], environment: [:])
        let http = c.httpServerOptions
        #expect(http.host == "0.0.0.0" && http.port == 9000 && http.tlsPort == 9443)
        #expect(http.certificateFile == "c" && http.keyFile == "k")
        #expect(http.maxHeaderBytes == 8192 && http.maxBodyBytes == 1 << 20)
        #expect(http.maxConcurrentStreams == 7 && http.maxConnections == 9)
        #expect(http.headerTimeout == .milliseconds(1500) && http.idleTimeout == .seconds(120))
        let scheduler = c.schedulerConfiguration
        #expect(scheduler.maxBatchTokens == 128 && scheduler.maxRunning == 3 && scheduler.maxQueued == 11)
        #expect(scheduler.kvCacheBytes == 64 << 20 && scheduler.contextLength == 300)
    }
}
