extension Duration {
    /// The duration in seconds, as reported in summaries and events.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
