/// All magnitudes one APoT code can express (relative to a row base of 0), sorted, with their
/// smallest codes: the table behind rounding to the nearest scale and behind encoding.
public struct APoTGrid: Sendable {
    public let terms: Int
    /// Ascending, distinct; `magnitudes[0] == 0`.
    let magnitudes: [Double]
    /// Smallest code of each magnitude.
    let codes: [UInt16]

    private static let all: [APoTGrid] = APoTCode.termsRange.map(APoTGrid.init(building:))

    /// The shared table for `terms` (1...4).
    public static func forTerms(_ terms: Int) -> APoTGrid {
        precondition(APoTCode.termsRange.contains(terms), "APoT terms must be in 1...4")
        return all[terms - 1]
    }

    private init(building terms: Int) {
        let count = APoTCode.magnitudeCodeCount(terms: terms)
        var pairs: [(value: Double, code: UInt16)] = []
        for code in 0..<count { pairs.append((APoTCode.magnitude(code: code, terms: terms), UInt16(code))) }
        pairs.sort { a, b in a.value != b.value ? a.value < b.value : a.code < b.code }
        var magnitudes: [Double] = []
        var codes: [UInt16] = []
        for (m, c) in pairs where magnitudes.last != m {
            magnitudes.append(m)
            codes.append(c)
        }
        self.terms = terms
        self.magnitudes = magnitudes
        self.codes = codes
    }

    /// The base exponent the quantizer uses for a row whose largest weight magnitude is
    /// `maxMagnitude`: two octaves of headroom above it, so scales fitted to error-updated weights
    /// still fit, and 14 octaves below.
    public static func rowBase(maxMagnitude: Float) -> Int {
        guard maxMagnitude > 0, maxMagnitude.isFinite else { return 0 }
        return min(100, max(-100, Int(maxMagnitude.exponent) + 2))
    }

    /// The representable value nearest to `value` for row base `base` (ties go to the smaller
    /// magnitude); values beyond the largest representable magnitude saturate, and values that
    /// round to zero give +0.
    public func round(_ value: Double, base: Int) -> Float {
        let m = Double(sign: .plus, exponent: -base, significand: Swift.abs(value))
        let j = nearestIndex(m)
        let r = Float(Double(sign: .plus, exponent: base, significand: magnitudes[j]))
        return value < 0 && r != 0 ? -r : r // never −0, which has no code
    }

    /// The smallest magnitude code of `value` (its absolute value) for row base `base`, or nil
    /// when the magnitude is not exactly representable there.
    public func magnitudeCode(of value: Float, base: Int) -> Int? {
        let m = Double(sign: .plus, exponent: -base, significand: Double(Swift.abs(value)))
        let j = lowerBound(m)
        guard j < magnitudes.count, magnitudes[j] == m else { return nil }
        return Int(codes[j])
    }

    private func lowerBound(_ m: Double) -> Int {
        var lo = 0
        var hi = magnitudes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if magnitudes[mid] < m { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func nearestIndex(_ m: Double) -> Int {
        let j = lowerBound(m)
        if j == magnitudes.count { return j - 1 }
        if j == 0 { return 0 }
        return m - magnitudes[j - 1] <= magnitudes[j] - m ? j - 1 : j
    }
}
