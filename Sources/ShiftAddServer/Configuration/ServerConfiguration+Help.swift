import ShiftAddCommandLine

extension ServerConfiguration {
    /// The `serve` subcommand for the executable's command table; its help text is `helpText()`.
    /// Parse settings with `load(arguments:environment:)`, which knows where each value came from.
    public static var commandSpec: CommandSpec {
        let defaults = ServerConfiguration()
        let config = CommandSpec.Option(ServerOption.configFlag, value: "FILE", help: "JSON file of settings (keys: option names with _ for -)")
        return CommandSpec(
            name: "serve",
            summary: "Serve a model over the OpenAI-compatible HTTP API",
            usage: """
                shiftadd serve --model PATH [options]

                Each option is read from its flag, else its environment variable, else the config file
                (--config FILE or \(ServerOption.configEnvironmentName); keys are option names with _ for -),
                else its default. Sizes take kB/MB/GB or KiB/MiB/GiB; durations take ms, s, m or h.
                """,
            options: [config] + ServerOption.allCases.map { option in
                CommandSpec.Option(option.rawValue, value: option.valueName, default: option.text(in: defaults).flatMap { $0.isEmpty ? nil : $0 },
                                   help: option.help)
            })
    }

    /// Help for `shiftadd serve --help`: every option with its flag, environment variable and default.
    public static func helpText() -> String { commandSpec.helpText }

    /// True when the arguments ask for help rather than a server.
    public static func helpRequested(_ arguments: [String]) -> Bool {
        arguments.contains { $0 == "--help" || $0 == "-h" }
    }
}
