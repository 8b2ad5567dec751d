#if canImport(Glibc)
import Glibc
#endif

/// Helpers shared by the Swift fuzz targets.
public enum Fuzz {
    /// With SHIFTADD_FUZZ_VERBOSE set, each refused input prints why: used to check that the seed
    /// corpus gets past the first validation steps.
    public static let verbose = getenv("SHIFTADD_FUZZ_VERBOSE") != nil

    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    public static func note(_ message: @autoclosure () -> String) {
        if verbose { printError(message()) }
    }

    /// A property the code under test promises was broken: report it and crash so the fuzzer keeps
    /// the input.
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        guard !condition else { return }
        printError("property violated: \(message())")
        abort()
    }
}

/// Writes a line to standard error (the C `stderr` global is not concurrency-safe in Swift 6).
private func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

/// A file in memory-backed storage holding one input, for readers that take a path; removed after
/// the input so no run leaves files behind.
public struct ScratchFile: Sendable {
    public let path: String

    public init(_ name: String) {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        path = "\(directory)/shiftadd-fuzz-\(name)-\(getpid())"
    }

    public func write(_ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
    }

    public func remove() { unlink(path) }
}
