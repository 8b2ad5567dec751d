import CShiftKernels

/// The vocabulary-wide arithmetic of sampling on the vector kernels: the same results on every
/// instruction set, so a seeded draw does not depend on the machine's vector width.
public enum LogitKernels {
    /// Index of the first largest value; NaN counts as -infinity; 0 when no value is above -infinity.
    public static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var index = 0
        let status = sa_logits_argmax(values.baseAddress, values.count, &index, -1)
        precondition(status == SA_OK.rawValue, "sa_logits_argmax failed (\(status))")
        return index
    }

    /// Σ exp((v − max) · scale) over the values (NaN as -infinity), storing each term in `weights`
    /// when given (as many as the values). `max` must be finite and at least every value; `scale`
    /// positive and finite. Terms below e^-80 are 0.
    public static func expSum(_ values: UnsafeBufferPointer<Float>, max: Float, scale: Float,
                              weights: UnsafeMutableBufferPointer<Float>? = nil) -> Double {
        precondition(weights.map { $0.count >= values.count } ?? true, "weights shorter than the values")
        var sum = 0.0
        let status = sa_logits_exp_sum(values.baseAddress, values.count, max, scale, weights?.baseAddress, &sum, -1)
        precondition(status == SA_OK.rawValue, "sa_logits_exp_sum failed (\(status)): max \(max), scale \(scale)")
        return sum
    }
}
