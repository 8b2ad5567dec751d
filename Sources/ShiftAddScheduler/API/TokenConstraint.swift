/// A rule on which tokens a generation may produce, such as a grammar compiled from a JSON schema.
///
/// The scheduler knows nothing of the rule's language: each step it lets the sequence's state mask
/// the logits right before sampling, then feeds it the sampled token. The rule itself is immutable
/// and shared; `start` gives each sequence its own state, on the engine thread.
public protocol TokenConstraint: Sendable {
    func start() -> any TokenConstraintState
}

/// One sequence's position in a `TokenConstraint`. Engine thread only.
public protocol TokenConstraintState: AnyObject {
    /// Sets to −infinity the logits of the tokens that cannot come next. `remaining` is how many
    /// tokens the sequence may still produce (at least 1), so a rule that must end can close in time.
    func mask(_ logits: UnsafeMutableBufferPointer<Float>, remaining: Int)
    /// Takes the token that was sampled from the masked logits.
    func advance(_ token: Int)
    /// The output is complete: the generation ends here with reason `stop`.
    var isComplete: Bool { get }
}
