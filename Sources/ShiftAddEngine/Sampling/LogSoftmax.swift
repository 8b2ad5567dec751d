import Foundation

/// Log-probabilities reported with sampled tokens: the log-softmax of the penalised logits, before
/// temperature and truncation, so they describe the model (plus penalties), not the sampling settings.
public enum LogSoftmax {
    /// log Σ exp(logit) around the largest logit: exponentials in Float, their sum in Double.
    public static func logNormaliser(_ logits: UnsafeBufferPointer<Float>) -> Double {
        let top = TopSelection.key(logits[TopSelection.argmax(logits)])
        guard top.isFinite else { return Double(top) }
        return Double(top) + Foundation.log(LogitKernels.expSum(logits, max: top, scale: 1))
    }

    /// `token` with its log-probability and the `alternatives` most likely tokens (no more than the
    /// vocabulary holds), best first, equal values by lower id.
    static func sampledToken(_ token: Int, alternatives: Int, logits: UnsafeBufferPointer<Float>) -> SampledToken {
        let normaliser = logNormaliser(logits)
        func logprob(_ id: Int) -> Float { Float(Double(TopSelection.key(logits[id])) - normaliser) }
        let top = TopSelection.largest(max(alternatives, 0), of: logits).map { (token: $0, logprob: logprob($0)) }
        return SampledToken(token: token, logprob: logprob(token), top: top)
    }

    /// `token`'s log-probability under `logits` as they are, with the `alternatives` most likely
    /// tokens: how a prompt token is scored.
    public static func score(_ token: Int, alternatives: Int, logits: UnsafeBufferPointer<Float>) -> SampledToken {
        sampledToken(token, alternatives: alternatives, logits: logits)
    }
}
