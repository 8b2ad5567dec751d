import ShiftAddHTTP
import ShiftAddScheduler

extension ServerConfiguration {
    /// Listener addresses and limits for the HTTP front end.
    public var httpServerOptions: HTTPServerOptions {
        var o = HTTPServerOptions()
        o.host = host
        o.port = port
        o.tlsPort = tlsPort
        o.certificateFile = tlsCertificate
        o.keyFile = tlsKey
        o.maxHeaderBytes = maxHeaderBytes
        o.maxBodyBytes = maxBodyBytes
        o.maxConcurrentStreams = maxConcurrentStreams
        o.maxConnections = maxConnections
        o.headerTimeout = .milliseconds(Int64((headerTimeoutSeconds * 1000).rounded()))
        o.idleTimeout = .milliseconds(Int64((idleTimeoutSeconds * 1000).rounded()))
        return o
    }

    /// Batch, queue, KV cache and context limits for the scheduler.
    public var schedulerConfiguration: SchedulerConfiguration {
        var s = SchedulerConfiguration()
        s.maxBatchTokens = maxBatchTokens
        s.maxRunning = maxRunning
        s.maxQueued = maxQueued
        s.kvCacheBytes = kvCacheBytes
        s.contextLength = contextLimit
        return s
    }
}
