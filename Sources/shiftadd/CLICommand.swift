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

/// Prints one JSON object with sorted keys.
func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
