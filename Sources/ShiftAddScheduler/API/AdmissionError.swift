/// Why `Scheduler.submit` refused a request; nothing was queued.
public enum AdmissionError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The waiting queue is full.
    case overloaded(queued: Int, limit: Int)
    /// The prompt plus the tokens asked for do not fit the context.
    case promptTooLong(promptTokens: Int, maxTokens: Int, context: Int)
    /// Empty prompt, token id out of range, invalid parameter.
    case invalid(String)
    case shuttingDown

    public var description: String {
        switch self {
        case let .overloaded(queued, limit):
            return "server overloaded: \(queued) requests waiting (limit \(limit)); retry later"
        case let .promptTooLong(prompt, maxTokens, context):
            return "the prompt has \(prompt) tokens and \(maxTokens) more were requested: "
                + "\(prompt + maxTokens) exceeds the context of \(context) tokens"
        case let .invalid(message):
            return message
        case .shuttingDown:
            return "the server is shutting down"
        }
    }
}
