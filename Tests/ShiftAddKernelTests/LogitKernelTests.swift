import CShiftKernels
import Foundation
import Testing

/// The sampling kernels: the first largest logit, and softmax weights with their sum, the same on
/// every instruction set and close to the exact values.
@Suite struct LogitKernelTests {
    /// Logits with NaN, infinities, ties and signed zeros; counts that leave tails after the vectors.
    static func logits(_ count: Int, seed: UInt64) -> [Float] {
        var random = KernelRandom(seed: seed)
        var values = (0..<count).map { _ in random.unit() * 30 }
        for i in stride(from: 3, to: count, by: 97) { values[i] = .nan }
        for i in stride(from: 5, to: count, by: 89) { values[i] = -.infinity }
        return values
    }

    static let counts = [0, 1, 7, 15, 16, 17, 33, 1003, 49_152]

    func argmax(_ values: [Float], isa: Int32) throws(KernelError) -> Int {
        var index = -1
        let status = sa_logits_argmax(values, values.count, &index, isa)
        guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        return index
    }

    func expSum(_ values: [Float], max: Float, scale: Float, isa: Int32) throws(KernelError) -> ([Float], Double) {
        var weights = [Float](repeating: -1, count: values.count)
        var sum = -1.0
        let status = sa_logits_exp_sum(values, values.count, max, scale, &weights, &sum, isa)
        guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        return (weights, sum)
    }

    /// First index of the largest value, NaN as -infinity, 0 when none is above -infinity.
    func referenceArgmax(_ values: [Float]) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in values.enumerated() where !v.isNaN && v > bestValue {
            best = i
            bestValue = v
        }
        return best
    }

    @Test(arguments: counts)
    func argmaxIsTheFirstLargestOnEveryPath(count: Int) throws {
        var cases = [Self.logits(count, seed: UInt64(count))]
        if count >= 17 {
            var tied = cases[0]
            tied[count - 1] = 40
            tied[count / 2] = 40
            cases.append(tied)
            var zeros = [Float](repeating: -.infinity, count: count)
            zeros[count - 2] = 0
            zeros[1] = -0.0
            cases.append(zeros)
            cases.append([Float](repeating: .nan, count: count))
            cases.append([Float](repeating: -.infinity, count: count))
        }
        for values in cases {
            let expected = referenceArgmax(values)
            for isa in KernelISA.all where isa.isAvailable {
                #expect(try argmax(values, isa: isa.value) == expected, "\(isa.testDescription), \(count) values")
            }
        }
    }

    @Test(arguments: counts)
    func expSumIsCloseToExactWithTheSameBitsOnEveryPath(count: Int) throws {
        let values = Self.logits(count, seed: UInt64(count) + 1)
        let max = values.filter { !$0.isNaN }.max() ?? 0
        let top = max.isFinite ? max : 0
        for scale: Float in [1, 1.25, 0.5] {
            let (weights, sum) = try expSum(values, max: top, scale: scale, isa: KernelISA.scalar.value)
            var exactSum = 0.0
            for (v, w) in zip(values, weights) {
                // The argument is rounded to Float as the kernel computes it; its exponential is exact.
                let x = v.isNaN ? -Double.infinity : Double((v - top) * scale)
                let exact = x < -80 ? 0 : Foundation.exp(x)
                exactSum += exact
                #expect(abs(Double(w) - exact) <= 3e-7 * exact || (exact < 1e-30 && abs(Double(w)) < 1e-30),
                        "exp(\(x)) = \(w), exactly \(exact)")
            }
            #expect(abs(sum - exactSum) <= 1e-6 * exactSum + 1e-300, "sum \(sum) vs \(exactSum)")
            for isa in KernelISA.all where isa.isAvailable {
                let (w, s) = try expSum(values, max: top, scale: scale, isa: isa.value)
                #expect(bitPatterns(w) == bitPatterns(weights), "\(isa.testDescription), \(count) values")
                #expect(s.bitPattern == sum.bitPattern, "\(isa.testDescription), \(count) values")
            }
        }
    }

    @Test func expSumWithoutWeightsGivesTheSameSum() throws {
        let values = Self.logits(1003, seed: 9)
        let top = values.filter { !$0.isNaN }.max()!
        let (_, sum) = try expSum(values, max: top, scale: 1.5, isa: -1)
        var alone = -1.0
        #expect(sa_logits_exp_sum(values, values.count, top, 1.5, nil, &alone, -1) == SA_OK.rawValue)
        #expect(alone == sum)
    }

    @Test func badArgumentsAreRejected() throws {
        let values: [Float] = [1, 2, 3]
        let bad = KernelError(status: SA_ERR_ARGUMENT.rawValue)
        for (max, scale) in [(Float.infinity, Float(1)), (.nan, 1), (-.infinity, 1), (3, 0), (3, -1), (3, .infinity), (3, .nan)] {
            #expect(throws: bad) { _ = try expSum(values, max: max, scale: scale, isa: -1) }
        }
        #expect(throws: bad) { _ = try argmax(values, isa: 5) }
        #expect(throws: bad) { _ = try expSum(values, max: 3, scale: 1, isa: 5) }
        var index = 0
        #expect(sa_logits_argmax(nil, 3, &index, -1) == SA_ERR_ARGUMENT.rawValue)
        for isa in KernelISA.all where !isa.isAvailable {
            #expect(throws: KernelError(status: SA_ERR_ISA.rawValue)) { _ = try argmax(values, isa: isa.value) }
        }
    }
}
