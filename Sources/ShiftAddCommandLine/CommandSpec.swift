/// Describes one subcommand: its options and positional arguments, enough to parse and to print help.
public struct CommandSpec: Sendable {
    public struct Option: Sendable {
        /// Long name without dashes, e.g. "max-tokens".
        public let name: String
        /// Placeholder shown in help; nil for a boolean flag.
        public let valueName: String?
        public let help: String
        public let defaultValue: String?

        public init(_ name: String, value: String? = nil, default defaultValue: String? = nil, help: String) {
            self.name = name
            self.valueName = value
            self.help = help
            self.defaultValue = defaultValue
        }

        public var isFlag: Bool { valueName == nil }
        /// The environment variable that may supply this option: SHIFTADD_MAX_TOKENS for "max-tokens".
        public var environmentName: String {
            "SHIFTADD_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        }
    }

    public let name: String
    public let summary: String
    public let usage: String
    public let options: [Option]

    public init(name: String, summary: String, usage: String, options: [Option]) {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.options = options
    }

    public var helpText: String {
        var lines = ["\(summary)", "", "Usage: \(usage)", "", "Options:"]
        let labels = options.map { o in "  --\(o.name)" + (o.valueName.map { " \($0)" } ?? "") }
        let width = (labels.map(\.count).max() ?? 0) + 2
        for (o, label) in zip(options, labels) {
            var text = label.padding(toLength: width, withPad: " ", startingAt: 0) + o.help
            if let d = o.defaultValue { text += " (default: \(d))" }
            text += " [env \(o.environmentName)]"
            lines.append(text)
        }
        lines.append("  --help".padding(toLength: width, withPad: " ", startingAt: 0) + "Show this help")
        return lines.joined(separator: "\n")
    }
}
