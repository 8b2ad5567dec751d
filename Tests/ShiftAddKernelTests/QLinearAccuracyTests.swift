import CShiftKernels
import Testing

/// A layer shape and batch for the accuracy tests.
struct LayerShape: CustomTestStringConvertible, Sendable {
    let rows: Int
    let cols: Int
    let groupSize: Int
    let bits: Int
    let tokens: Int
    let withBeta: Bool
    var testDescription: String {
        "\(rows)x\(cols) G\(groupSize) b\(bits) T\(tokens)\(withBeta ? " beta" : "")"
    }
}

@Suite struct QLinearAccuracyTests {
    static let shapes = [
        LayerShape(rows: 40, cols: 576, groupSize: 128, bits: 3, tokens: 5, withBeta: true),
        LayerShape(rows: 37, cols: 100, groupSize: 32, bits: 2, tokens: 3, withBeta: false),
        LayerShape(rows: 24, cols: 1536, groupSize: 64, bits: 4, tokens: 2, withBeta: true),
        LayerShape(rows: 33, cols: 72, groupSize: 32, bits: 1, tokens: 9, withBeta: true),
        LayerShape(rows: 50, cols: 300, groupSize: 256, bits: 4, tokens: 1, withBeta: false),
        LayerShape(rows: 17, cols: 200, groupSize: 8, bits: 2, tokens: 4, withBeta: true),
        LayerShape(rows: 20, cols: 1100, groupSize: 1024, bits: 3, tokens: 2, withBeta: true),
        LayerShape(rows: 65, cols: 96, groupSize: 48, bits: 3, tokens: 64, withBeta: false),
        LayerShape(rows: 3, cols: 5, groupSize: 40, bits: 1, tokens: 2, withBeta: true),
    ]

    @Test(arguments: KernelISA.all, shapes)
    func productIsWithinTheTableQuantizationBound(isa: KernelISA, shape: LayerShape) throws {
        let layer = CanonicalLayer(rows: shape.rows, cols: shape.cols, groupSize: shape.groupSize,
                                   bits: shape.bits, withBeta: shape.withBeta, seed: UInt64(shape.cols * 31 + shape.rows))
        var random = KernelRandom(seed: UInt64(shape.tokens))
        let x = random.activations(shape.tokens * shape.cols)
        guard runsHere(isa) else { return }
        let product = try runProduct(layer, isa: isa.value, x: x, tokens: shape.tokens)
        let exact = layer.reference(x: x, tokens: shape.tokens)
        var worst = 0.0
        for t in 0..<shape.tokens {
            for r in 0..<shape.rows {
                let bound = layer.errorBound(x: x, token: t, row: r) { product.step(token: t, group: $0) }
                let error = abs(Double(product.y[t * shape.rows + r]) - exact[t * shape.rows + r])
                #expect(error <= bound, "token \(t) row \(r): error \(error) > bound \(bound)")
                worst = max(worst, error / bound)
            }
        }
        // The bound is reached in practice to within a small factor, so it is not vacuous.
        #expect(worst > 0.01)
    }

    /// Each step is the group's largest 4-activation magnitude sum over 127.
    @Test(arguments: KernelISA.all)
    func tableStepIsLargestBlockMagnitudeOver127(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let layer = CanonicalLayer(rows: 16, cols: 100, groupSize: 32, bits: 2, withBeta: false, seed: 5)
        var random = KernelRandom(seed: 6)
        let x = random.activations(2 * 100)
        let product = try runProduct(layer, isa: isa.value, x: x, tokens: 2)
        for t in 0..<2 {
            for g in 0..<layer.groups {
                var largest: Float = 0
                for b in stride(from: g * 32, to: min(g * 32 + 32, 100), by: 4) {
                    var s: Float = 0
                    for c in b..<min(b + 4, 100) { s += abs(x[t * 100 + c]) }
                    largest = max(largest, s)
                }
                #expect(product.step(token: t, group: g) == largest / 127)
            }
        }
    }

    /// Integer activations whose largest block sum is exactly 127 quantize without loss, so
    /// with power-of-two scales the product is exact.
    @Test(arguments: KernelISA.all)
    func representableActivationsGiveTheExactProduct(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        var layer = CanonicalLayer(rows: 45, cols: 230, groupSize: 64, bits: 2, withBeta: true, seed: 8)
        var random = KernelRandom(seed: 9)
        layer.alpha = layer.alpha.map { _ in Float(sign: random.next() & 1 == 0 ? .plus : .minus, exponent: -1 - random.below(3), significand: 1) }
        layer.beta = layer.beta!.map { _ in Float(sign: .plus, exponent: -random.below(3), significand: 1) }
        var x = (0..<3 * 230).map { _ in Float(random.below(63) - 31) }
        for t in 0..<3 {
            for g in 0..<layer.groups {
                for (j, v) in [31, 32, 32, 32].enumerated() { x[t * 230 + g * 64 + j] = Float(v) }
            }
        }
        let product = try runProduct(layer, isa: isa.value, x: x, tokens: 3)
        let exact = layer.reference(x: x, tokens: 3)
        #expect(product.steps.allSatisfy { $0 == 1 })
        #expect(product.y == exact.map { Float($0) })
    }

    /// With all alphas zero only the offsets remain: y = sum_g beta[r][g] * sum of group g.
    @Test(arguments: KernelISA.all)
    func offsetsAloneGiveBetaTimesGroupSums(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        var layer = CanonicalLayer(rows: 19, cols: 150, groupSize: 40, bits: 3, withBeta: true, seed: 10)
        layer.alpha = layer.alpha.map { _ in 0 }
        var random = KernelRandom(seed: 11)
        let x = random.activations(4 * 150)
        let product = try runProduct(layer, isa: isa.value, x: x, tokens: 4)
        let exact = layer.reference(x: x, tokens: 4)
        for i in 0..<exact.count {
            #expect(abs(Double(product.y[i]) - exact[i]) <= 1e-5 * max(1, abs(exact[i])))
        }
    }

    @Test(arguments: KernelISA.all)
    func zeroActivationsGiveZero(isa: KernelISA) throws {
        guard runsHere(isa) else { return }
        let layer = CanonicalLayer(rows: 30, cols: 64, groupSize: 32, bits: 2, withBeta: true, seed: 12)
        let product = try runProduct(layer, isa: isa.value, x: [Float](repeating: 0, count: 2 * 64), tokens: 2)
        #expect(product.y.allSatisfy { $0 == 0 })
        #expect(product.steps.allSatisfy { $0 == 0 })
    }
}
