import Foundation

/// Progress on standard error: a redrawn bar with elapsed time and ETA on a terminal, a plain line
/// every few seconds otherwise.
public struct ProgressBar {
    public let label: String
    public let total: Int
    private let start = Date()
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastLine = Date.distantPast

    public init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    public mutating func update(_ done: Int, detail: String = "") {
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let timing = String(format: "%.0fs elapsed, ETA %.0fs", elapsed, eta)
        if isTerminal {
            let width = 30, filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total) \(timing) \(detail)\u{1B}[K".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if done == total || Date().timeIntervalSince(lastLine) >= 5 {
            lastLine = Date()
            FileHandle.standardError.write(Data("\(label) \(done)/\(total), \(timing) \(detail)\n".utf8))
        }
    }
}

/// Peak resident set size of this process, from /proc.
public func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb * 1024
}
