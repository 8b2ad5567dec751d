import CShiftKernels
import Foundation
import Testing

@Suite struct GELUGatedKernelTests {
    func run(_ gate: [Float], _ up: [Float], isa: Int32) throws(KernelError) -> [Float] {
        var g = gate
        let status = sa_gelu_gated(&g, up, g.count, isa)
        guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        return g
    }

    /// 0.5 · g · (1 + tanh(u)) · up with u = √(2/π) · (g + 0.044715 g³), computed in Double, is
    /// matched within (8 + 4|2u|) units in the last place: the sigmoid adds what sa_swiglu's does
    /// (8), and its argument 2u carries four roundings, which move ln sigmoid(2u) by at most |2u|
    /// times their relative size. The reference takes 0.5 · (1 + tanh(u)) as 1 / (1 + e^(-2u)), its
    /// equal, since 1 + tanh(u) cancels to nothing in Double below u ≈ -18. Where the exact value is
    /// below 2^-100 the kernel may flush it. Every path gives the same bits.
    @Test func matchesTheTanhFormulaWithTheSameBitsOnEveryPath() throws {
        let (gate, up) = SwiGLUKernelTests.inputs()
        let scalar = try run(gate, up, isa: KernelISA.scalar.value)
        let u = Double(Float.ulpOfOne) / 2
        for i in gate.indices {
            let g = Double(gate[i])
            let inner = (2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g)
            let exact = g / (1 + Foundation.exp(-2 * inner)) * Double(up[i])
            // The two forms agree up to the rounding of 1 + tanh(u), which is of order 1.
            #expect(abs(exact - 0.5 * g * (1 + Foundation.tanh(inner)) * Double(up[i])) <= 4 * Double.ulpOfOne * abs(g * Double(up[i])))
            let error = abs(Double(scalar[i]) - exact)
            #expect(error <= (8 + 4 * abs(2 * inner)) * u * abs(exact) || abs(exact) < 0x1p-100,
                    "gate \(gate[i]) up \(up[i]): \(scalar[i]) vs \(exact)")
        }
        for isa in KernelISA.all where runsHere(isa) {
            #expect(bitPatterns(try run(gate, up, isa: isa.value)) == bitPatterns(scalar), "\(isa.testDescription)")
        }
    }

    /// A few values worked by hand: gelu(0) = 0, gelu(g) → g for large g and → 0 for large -g,
    /// gelu(1) = 0.841192 (the tanh form's value; the erf form's is 0.841345).
    @Test func knownValues() throws {
        let out = try run([0, 1, -1, 30, -30], [1, 1, 2, 0.5, 1], isa: SA_ISA_BEST)
        #expect(out[0] == 0)
        #expect(abs(out[1] - 0.841192) < 1e-6)
        #expect(abs(out[2] - 2 * -0.158808) < 2e-6)
        #expect(out[3] == 15)
        #expect(out[4] == 0)
    }

    @Test func badArgumentsAreRejected() throws {
        let (gate, up) = SwiGLUKernelTests.inputs()
        #expect(throws: KernelError(status: SA_ERR_ARGUMENT.rawValue)) { try run(gate, up, isa: 5) }
        for isa in KernelISA.all where !isa.isAvailable {
            #expect(throws: KernelError(status: SA_ERR_ISA.rawValue)) { try run(gate, up, isa: isa.value) }
        }
    }
}
