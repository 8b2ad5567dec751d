/// The compact code of additive-powers-of-two (APoT) scales.
///
/// Each row of a layer has a base exponent `E` (stored once per row as an `Int8`). Relative to it,
/// a magnitude with at most `k` terms (`k` = `terms`, 1...4) is either 0 or
///
///     2^(E − o) · (1 + s₁·2^(−d₁) + s₂·2^(−d₁−d₂) + …)      (at most k − 1 further terms)
///
/// with lead offset `o` in `0...14`, signs `sᵢ = ±1` and gaps `dᵢ` in `1...3` between successive
/// terms. Such a value is always positive, so the sign of `alpha` is never stored (the quantizer
/// keeps every `alpha` ≥ 0 by choosing which bit means +1); `beta` adds one sign bit.
///
/// Magnitude code, an integer enumerating these forms without gaps:
/// - 0 means zero;
/// - otherwise `1 + o · T(k−1) + tail`, where `T(0) = 1`, `T(m) = 1 + 6·T(m−1)` counts the tails of at
///   most `m` terms, and a tail is numbered `0` when empty, else
///   `1 + digit · T(m−1) + (number of the rest)` with `digit = (s < 0 ? 3 : 0) + d − 1`.
///
/// Code widths: `alpha` 4, 7, 10, 12 bits and `beta` (magnitude code · 2 + sign) 5, 8, 11, 13 bits
/// for k = 1, 2, 3, 4. The number of distinct magnitudes is smaller than the number of codes (some
/// forms coincide); the encoder always emits the smallest code of a magnitude.
public enum APoTCode {
    public static let termsRange = 1...4
    /// Lead offsets `0..<leadLevels` below the row base.
    public static let leadLevels = 15
    /// Largest gap between successive terms.
    public static let maxGap = 3

    /// Number of tails with at most `m` terms.
    static func tailCount(_ m: Int) -> Int {
        m == 0 ? 1 : 1 + 2 * maxGap * tailCount(m - 1)
    }

    /// Number of magnitude codes for `terms` terms (zero included).
    public static func magnitudeCodeCount(terms: Int) -> Int {
        1 + leadLevels * tailCount(terms - 1)
    }

    /// Bits of one stored `alpha` code.
    public static func alphaCodeBits(terms: Int) -> Int {
        bitWidth(magnitudeCodeCount(terms: terms) - 1)
    }

    /// Bits of one stored `beta` code (magnitude code and a sign bit).
    public static func betaCodeBits(terms: Int) -> Int {
        bitWidth(2 * (magnitudeCodeCount(terms: terms) - 1) + 1)
    }

    /// The magnitude a code stands for, relative to a base exponent of 0 (multiply by 2^E).
    public static func magnitude(code: Int, terms: Int) -> Double {
        precondition(code >= 0 && code < magnitudeCodeCount(terms: terms), "APoT code out of range")
        if code == 0 { return 0 }
        var m = terms - 1
        let lead = (code - 1) / tailCount(m)
        var tail = (code - 1) % tailCount(m)
        var exponent = -lead
        var value = Double(sign: .plus, exponent: exponent, significand: 1)
        while tail > 0 {
            tail -= 1
            let digit = tail / tailCount(m - 1)
            tail %= tailCount(m - 1)
            exponent -= digit % maxGap + 1
            let term = Double(sign: .plus, exponent: exponent, significand: 1)
            value += digit >= maxGap ? -term : term
            m -= 1
        }
        return value
    }

    /// Row-relative `alpha`/`beta` value of a signed code as stored for `beta`.
    public static func signedValue(betaCode: Int, terms: Int, base: Int) -> Float {
        let magnitude = magnitude(code: betaCode >> 1, terms: terms)
        let value = Float(Double(sign: .plus, exponent: base, significand: magnitude))
        return betaCode & 1 == 1 ? -value : value
    }

    /// Row-relative value of an `alpha` code.
    public static func value(alphaCode: Int, terms: Int, base: Int) -> Float {
        Float(Double(sign: .plus, exponent: base, significand: magnitude(code: alphaCode, terms: terms)))
    }

    private static func bitWidth(_ maxValue: Int) -> Int {
        maxValue == 0 ? 1 : Int.bitWidth - maxValue.leadingZeroBitCount
    }
}
