/// Failures of the quantization routines.
public enum QuantizationError: Error, Equatable, Sendable {
    /// A size, option or argument outside its documented range.
    case invalidArgument(String)
    /// An array whose length does not match the dimensions given with it.
    case sizeMismatch(what: String, expected: Int, found: Int)
    /// The damped Hessian could not be factorised even after raising the damping.
    case hessianNotPositiveDefinite(columns: Int)
    /// A scale that is not a sum of the allowed powers of two (the quantizer never produces one).
    case scaleNotRepresentable(row: Int, value: Float)
}
