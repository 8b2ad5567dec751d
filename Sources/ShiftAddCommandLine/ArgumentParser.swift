import Foundation

/// Why a command line was refused. `helpRequested` carries the text to print.
public enum ArgumentError: Error, Equatable, CustomStringConvertible {
    case helpRequested(String)
    case unknownOption(String)
    case missingValue(String)
    case unexpectedArgument(String)
    case missingRequired(String)
    case invalidValue(option: String, value: String, reason: String)

    public var description: String {
        switch self {
        case let .helpRequested(text): return text
        case let .unknownOption(o): return "unknown option '\(o)' (see --help)"
        case let .missingValue(o): return "option '--\(o)' needs a value"
        case let .unexpectedArgument(a): return "unexpected argument '\(a)'"
        case let .missingRequired(o): return "missing required option '--\(o)'"
        case let .invalidValue(o, v, reason): return "invalid value '\(v)' for --\(o): \(reason)"
        }
    }
}

/// Option values after parsing, with flags winning over `SHIFTADD_*` environment variables and
/// those over the declared defaults.
public struct ParsedArguments: Sendable {
    public let positionals: [String]
    let values: [String: String]

    public func string(_ name: String) -> String? { values[name] }

    public func required(_ name: String) throws -> String {
        guard let v = values[name] else { throw ArgumentError.missingRequired(name) }
        return v
    }

    public func int(_ name: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let raw = values[name] else { return nil }
        guard let v = Int(raw) else { throw ArgumentError.invalidValue(option: name, value: raw, reason: "not an integer") }
        if let range, !range.contains(v) {
            throw ArgumentError.invalidValue(option: name, value: raw, reason: "must be in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    public func double(_ name: String, range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let raw = values[name] else { return nil }
        guard let v = Double(raw), v.isFinite else { throw ArgumentError.invalidValue(option: name, value: raw, reason: "not a number") }
        if let range, !range.contains(v) {
            throw ArgumentError.invalidValue(option: name, value: raw, reason: "must be in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    public func flag(_ name: String) throws -> Bool {
        guard let raw = values[name] else { return false }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw ArgumentError.invalidValue(option: name, value: raw, reason: "expected true or false")
        }
    }
}

public enum ArgumentParser {
    /// Parses `arguments` (without the program and subcommand names) against `spec`.
    /// Accepts `--name value`, `--name=value` and bare `--flag`; `--` ends options.
    public static func parse(_ arguments: [String], spec: CommandSpec,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ParsedArguments {
        let byName = Dictionary(uniqueKeysWithValues: spec.options.map { ($0.name, $0) })
        var values: [String: String] = [:]
        for o in spec.options {
            if let v = environment[o.environmentName] { values[o.name] = v } else if let d = o.defaultValue { values[o.name] = d }
        }
        var positionals: [String] = []
        var i = 0
        var optionsEnded = false
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if optionsEnded || !arg.hasPrefix("-") || arg == "-" {
                positionals.append(arg)
                continue
            }
            if arg == "--" { optionsEnded = true; continue }
            if arg == "--help" || arg == "-h" { throw ArgumentError.helpRequested(spec.helpText) }
            guard arg.hasPrefix("--") else { throw ArgumentError.unknownOption(arg) }
            var name = String(arg.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = byName[name] else { throw ArgumentError.unknownOption(arg) }
            if option.isFlag {
                values[name] = inline ?? "true"
            } else if let inline {
                values[name] = inline
            } else {
                guard i < arguments.count else { throw ArgumentError.missingValue(name) }
                values[name] = arguments[i]
                i += 1
            }
        }
        return ParsedArguments(positionals: positionals, values: values)
    }
}
