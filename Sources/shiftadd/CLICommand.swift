import Foundation
import ShiftAddCommandLine

/// A subcommand of the `shiftadd` executable.
protocol CLICommand {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments) throws
}

enum ShiftAddVersion {
    static let string = "0.1.0"
}

/// A user-facing failure with a message that needs no stack of context.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Writes progress to standard error: a redrawn bar on a terminal, plain lines otherwise.
struct ProgressReporter {
    let label: String
    let total: Int
    let isTerminal = isatty(STDERR_FILENO) != 0
    let start = Date()
    private var lastLine = Date.distantPast

    init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    mutating func update(_ done: Int, detail: String = "") {
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let timing = String(format: "%.0fs elapsed, ETA %.0fs", elapsed, eta)
        if isTerminal {
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total) \(timing) \(detail)\u{1B}[K".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if done == total || Date().timeIntervalSince(lastLine) >= 5 {
            lastLine = Date()
            FileHandle.standardError.write(Data("\(label): \(done)/\(total), \(timing) \(detail)\n".utf8))
        }
    }
}

/// Prints one JSON object with sorted keys.
func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
