import Foundation
import ShiftAddCommandLine
import ShiftAddEngine
import ShiftAddServer

/// Entry point: `shiftadd <command> [options]`.
let commands: [any CLICommand.Type] = [GenerateCommand.self, EvalCommand.self, ScoreCommand.self, TokenizeCommand.self, InspectCommand.self, BenchCommand.self,
                                      KernelsCommand.self]

let arguments = Array(CommandLine.arguments.dropFirst())

@MainActor func usage() -> String {
    var lines = ["shiftadd \(ShiftAddVersion.string): serve and evaluate multiplication-free LLMs", "",
                 "Usage: shiftadd <command> [options]", "", "Commands:"]
    var specs = [ServerConfiguration.commandSpec]
    for c in commands { specs.append(c.spec) }
    for spec in specs { lines.append("  " + spec.name.padding(toLength: 12, withPad: " ", startingAt: 0) + spec.summary) }
    lines.append("")
    lines.append("Run `shiftadd <command> --help` for a command's options.")
    return lines.joined(separator: "\n")
}

guard let name = arguments.first else {
    print(usage())
    exit(2)
}
switch name {
case "--version", "version":
    print("shiftadd \(ShiftAddVersion.string)")
    exit(0)
case "--help", "-h", "help":
    print(usage())
    exit(0)
case "serve":
    exit(ServeCommand.run(Array(arguments.dropFirst())))
default:
    break
}
guard let command = commands.first(where: { $0.spec.name == name }) else {
    FileHandle.standardError.write(Data("shiftadd: unknown command '\(name)'\n\n\(usage())\n".utf8))
    exit(2)
}
do {
    let parsed = try ArgumentParser.parse(Array(arguments.dropFirst()), spec: command.spec)
    // A bad SHIFTADD_KERNELS stops the command here, before any kernel runs.
    _ = try KernelPath.current()
    try command.run(parsed)
    fflush(nil)
    exit(0)
} catch let ArgumentError.helpRequested(text) {
    print(text)
    exit(0)
} catch let error as ArgumentError {
    FileHandle.standardError.write(Data("shiftadd \(name): \(error)\n".utf8))
    exit(2)
} catch {
    fflush(nil)
    FileHandle.standardError.write(Data("shiftadd \(name): \(error)\n".utf8))
    exit(1)
}
