import Dispatch
import Foundation
import ShiftAddBundle
import ShiftAddConvert
import ShiftAddEngine
import ShiftAddHTTP
import ShiftAddScheduler
import ShiftAddServer
import ShiftAddTokenizer
import Synchronization

/// `shiftadd serve`: the HTTP server. Options come from flags, `SHIFTADD_*` variables and a config
/// file (Docs/configuration.md). A checkpoint is converted once into the bundle cache.
enum ServeCommand {
    static func run(_ arguments: [String]) -> Int32 {
        if ServerConfiguration.helpRequested(arguments) {
            print(ServerConfiguration.helpText())
            return 0
        }
        let environment = ProcessInfo.processInfo.environment
        let config: ServerConfiguration
        let apiKeys: [String]
        let chatTemplate: String?
        let kernels: KernelPath
        do {
            config = try ServerConfiguration.load(arguments: arguments, environment: environment)
            apiKeys = try config.loadAPIKeys()
            chatTemplate = try config.loadChatTemplate()
            kernels = try KernelPath.current()
        } catch {
            FileHandle.standardError.write(Data("shiftadd serve: \(error)\n".utf8))
            return 2
        }
        let logger = Logger(level: config.logLevel, format: config.logFormat)
        logger.info("kernels", [("path", kernels.name), ("cpu_best", kernels.hardware)]
            + (kernels.forced ? [("set_by", KernelPath.environmentName)] : []))
        do {
            try ServerProcess(config: config, apiKeys: apiKeys, chatTemplate: chatTemplate, environment: environment, logger: logger).run()
            return 0
        } catch {
            logger.error("cannot serve: \(error)")
            return 1
        }
    }
}

/// One server process: model, scheduler, listener, and the drain on SIGTERM or SIGINT.
private struct ServerProcess {
    let config: ServerConfiguration
    let apiKeys: [String]
    /// From `--chat-template`; nil serves the model's own.
    let chatTemplate: String?
    let environment: [String: String]
    let logger: Logger

    func run() throws {
        guard let modelPath = config.model else { throw CLIError("no model: give --model PATH (a bundle or a checkpoint)") }
        guard FileManager.default.fileExists(atPath: modelPath) else { throw CLIError("\(modelPath): no such file or directory") }
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let metrics = Metrics()
        let api = APIServer(apiKeys: apiKeys, corsOrigins: config.corsOrigins, logger: logger, metrics: metrics,
                            maxChoices: config.maxChoices)
        // Listen first: /live answers and the rest says 503 while the model converts or loads.
        let http = try HTTPServer(options: config.httpServerOptions, handler: api)
        api.setHTTPStatistics { [weak http] in http?.statistics() }
        http.start()
        logger.info("listening", [("address", "http://\(config.host):\(http.port)")]
            + (http.tlsPort.map { [("tls_address", "https://\(config.host):\($0)")] } ?? []))

        let threads = config.effectiveThreads
        BLASThreads.configure(threads)
        let cache = BundleCache(directory: config.bundleCache ?? BundleCache.defaultDirectory(environment: environment),
                                options: conversionOptions(threads: threads), presetName: "fast")
        let scheduler: Scheduler
        do {
            let bundlePath = try cache.bundle(for: modelPath) { logger.info($0) }
            let bundle = try WeightBundle(path: bundlePath)
            let manifest = bundle.manifest
            guard let spec = manifest.tokenizer else { throw CLIError("\(bundlePath): the bundle has no tokenizer") }
            let tokenizer = try Tokenizer(spec: spec)
            let model = try QuantizedModel(bundle: bundle, threads: threads, maxBatchTokens: config.maxBatchTokens)
            model.releaseBundleCopies()
            scheduler = try Scheduler(model: model, tokenizer: tokenizer, configuration: config.schedulerConfiguration) {
                metrics.record($0)
            }
            let token = { (id: Int?) in id.flatMap { tokenizer.tokenText($0) } ?? "" }
            api.attach(scheduler: scheduler, modelId: config.modelId ?? Self.modelId(for: modelPath),
                       chatTemplate: chatTemplate ?? manifest.chatTemplate, bosToken: token(tokenizer.bosTokenId),
                       eosToken: token(tokenizer.eosTokenId))
            logger.info("ready", [("model", bundlePath), ("context", "\(scheduler.contextLength)"), ("threads", "\(threads)")])
        } catch {
            http.stop()
            throw error
        }
        api.setReady(true)
        signals.serving()

        let signal = signals.wait()
        logger.info("draining", [("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"),
                                 ("in_flight", "\(api.activeGenerations)"),
                                 ("timeout_seconds", "\(config.drainTimeoutSeconds)")])
        api.setReady(false)
        http.drain()
        let deadline = Date().addingTimeInterval(config.drainTimeoutSeconds)
        while api.activeGenerations > 0, Date() < deadline { usleep(20_000) }
        let unfinished = api.activeGenerations
        if unfinished > 0 {
            logger.warning("drain timeout reached; cancelling the rest", [("unfinished", "\(unfinished)")])
        }
        scheduler.shutdown()
        http.stop()
        logger.info("stopped", [("unfinished", "\(unfinished)")])
    }

    /// Checkpoints given to `serve` convert with the fast preset at 3 bits: minutes rather than
    /// a quarter of an hour on two cores. `shiftadd-convert` gives the full preset.
    private func conversionOptions(threads: Int) -> ConversionOptions {
        var o = ConversionOptions.fast
        o.threads = threads
        return o
    }

    /// The served model's id: the file name without its extensions.
    static func modelId(for path: String) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        return name.split(separator: ".").first.map(String.init) ?? name
    }
}

/// Blocks the calling thread until one of the signals arrives; their default actions are replaced
/// so the process drains instead of dying. Until `serving()`, a signal ends the process at once:
/// there is nothing to drain while the model converts or loads.
private final class SignalWaiter {
    private final class Received: Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        let signal = Atomic<Int32>(0)
        let serving = Atomic<Bool>(false)
    }

    private let sources: [any DispatchSourceSignal]
    private let received = Received()

    init(_ numbers: [Int32]) {
        let queue = DispatchQueue(label: "shiftadd.signals")
        sources = numbers.map { n in
            signal(n, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: n, queue: queue)
        }
        for (n, source) in zip(numbers, sources) {
            source.setEventHandler { [received] in
                guard received.serving.load(ordering: .acquiring) else { _exit(128 + n) }
                received.signal.store(n, ordering: .releasing)
                received.semaphore.signal()
            }
            source.resume()
        }
    }

    func serving() { received.serving.store(true, ordering: .releasing) }

    func wait() -> Int32 {
        received.semaphore.wait()
        return received.signal.load(ordering: .acquiring)
    }
}
