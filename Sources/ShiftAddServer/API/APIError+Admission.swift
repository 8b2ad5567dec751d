import ShiftAddScheduler

extension APIError {
    /// The answer to a request the scheduler refused; `promptParam` names the prompt field
    /// (`prompt` or `messages`).
    public init(_ error: AdmissionError, promptParam: String) {
        switch error {
        case let .overloaded(queued, limit): self = .overloaded(queued: queued, limit: limit)
        case .promptTooLong: self = .invalid(error.description, param: promptParam, code: "context_length_exceeded")
        case .invalid(let message): self = .invalid(message, param: promptParam)
        case .shuttingDown: self = .unavailable("the server is shutting down", code: "shutting_down")
        }
    }
}
