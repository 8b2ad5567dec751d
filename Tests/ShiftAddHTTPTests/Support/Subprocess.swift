import Foundation

struct ProcessResult {
    let status: Int32
    let output: String
    let error: String
}

/// Runs a tool (curl, nghttp, openssl) to completion and collects what it printed.
func run(_ tool: String, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read both pipes before waiting, so a large output cannot block the tool.
    let errorData = LockedData()
    let errorHandle = error.fileHandleForReading
    let reader = Thread { errorData.set(errorHandle.readDataToEndOfFile()) }
    reader.start()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errorData.done { Thread.sleep(forTimeInterval: 0.005) }
    return ProcessResult(status: process.terminationStatus,
                         output: String(decoding: outputData, as: UTF8.self),
                         error: String(decoding: errorData.value, as: UTF8.self))
}

private final class LockedData: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    private var finished = false

    func set(_ value: Data) { lock.withLock { data = value; finished = true } }
    var done: Bool { lock.withLock { finished } }
    var value: Data { lock.withLock { data } }
}

/// A self-signed certificate for 127.0.0.1 in a fresh temporary folder.
func makeCertificate() throws -> (certificate: String, key: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shiftadd-tls-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let certificate = folder.appendingPathComponent("cert.pem").path
    let key = folder.appendingPathComponent("key.pem").path
    let result = try run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                     "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1"])
    guard result.status == 0 else { throw RawConnectionError(description: "openssl failed: \(result.error)") }
    return (certificate, key)
}
