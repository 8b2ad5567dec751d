/// Identifies a submitted generation, for `Scheduler.cancel`.
public struct GenerationID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "gen-\(rawValue)" }
}
