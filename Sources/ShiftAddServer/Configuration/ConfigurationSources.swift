import Foundation

/// Turns each source (flags, environment, config file) into settings tagged with their origin.
enum ConfigurationSources {
    struct Setting {
        let option: ServerOption
        let value: ConfigurationValue
        let origin: ConfigurationOrigin
    }

    /// A flag from the command line; `option` is nil for `--config`.
    struct Flag {
        let option: ServerOption?
        let value: String
        let origin: ConfigurationOrigin
        var rawValue: ConfigurationValue { .text(value) }
    }

    /// `--name value` and `--name=value`, in order; a later flag overrides an earlier one.
    static func flags(_ arguments: [String]) throws(ConfigurationError) -> [Flag] {
        var flags: [Flag] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigurationError(option: argument, origin: .flag(argument), value: nil,
                                         reason: "unexpected argument; settings are given as --name value (see shiftadd serve --help)")
            }
            var name = String(argument.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            let option = ServerOption(rawValue: name)
            guard option != nil || name == ServerOption.configFlag else {
                throw ConfigurationError(option: name, origin: .flag("--" + name), value: nil,
                                         reason: "unknown flag --\(name) (see shiftadd serve --help)")
            }
            let value: String
            if let inline {
                value = inline
            } else {
                guard i < arguments.count else {
                    throw ConfigurationError(option: name, origin: .flag("--" + name), value: nil, reason: "--\(name) needs a value")
                }
                value = arguments[i]
                i += 1
            }
            flags.append(Flag(option: option, value: value, origin: .flag("--" + name)))
        }
        return flags
    }

    /// The `SHIFTADD_*` variables that name options; other variables are left alone.
    static func environment(_ environment: [String: String]) -> [Setting] {
        ServerOption.allCases.compactMap { option in
            environment[option.environmentName].map {
                Setting(option: option, value: .text($0), origin: .environment(option.environmentName))
            }
        }
    }

    /// A JSON object whose keys are option names with `_` for `-`; an unknown key is an error.
    static func file(path: String, origin: ConfigurationOrigin) throws(ConfigurationError) -> [Setting] {
        func failure(_ reason: String) -> ConfigurationError {
            ConfigurationError(option: ServerOption.configFlag, origin: origin, value: path, reason: reason)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist")
        }
        let object: [String: FileValue]
        do {
            object = try JSONDecoder().decode([String: FileValue].self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            let detail = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            throw failure("is not valid JSON" + (detail.map { " (\($0))" } ?? ""))
        } catch {
            throw failure("is not a JSON object of settings")
        }
        let byKey = Dictionary(uniqueKeysWithValues: ServerOption.allCases.map { ($0.fileKey, $0) })
        if let unknown = object.keys.sorted().first(where: { byKey[$0] == nil }) {
            throw ConfigurationError(option: unknown, origin: .file(path: path, key: unknown), value: nil,
                                     reason: "unknown key in \(path); keys are option names with _ for - (see shiftadd serve --help)")
        }
        return ServerOption.allCases.compactMap { option in
            object[option.fileKey].map {
                Setting(option: option, value: $0.configurationValue, origin: .file(path: path, key: option.fileKey))
            }
        }
    }
}

/// Any JSON value, decoded without losing the difference between numbers, booleans and strings.
private enum FileValue: Decodable {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([FileValue]), object

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Int.self) {
            self = .integer(v)
        } else if let v = try? c.decode(Double.self) {
            self = .number(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else if let v = try? c.decode([FileValue].self) {
            self = .array(v)
        } else {
            _ = try c.decode([String: FileValue].self)
            self = .object
        }
    }

    /// Numbers become their decimal text so one parser serves every source.
    var configurationValue: ConfigurationValue {
        switch self {
        case .null: return .null
        case let .string(s): return .text(s)
        case let .integer(v): return .text(String(v))
        case let .number(v): return .text(v.description)
        case let .bool(v): return .unsupported(String(v))
        case let .array(items):
            let strings = items.compactMap { if case let .string(s) = $0 { s } else { nil } }
            return strings.count == items.count ? .list(strings) : .unsupported("[…]")
        case .object: return .unsupported("{…}")
        }
    }
}
