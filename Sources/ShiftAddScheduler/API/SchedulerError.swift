/// A configuration the scheduler cannot run with.
public struct SchedulerError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
