import CShiftKernels
import Foundation
import Testing

@Suite struct SwiGLUKernelTests {
    /// Gates over the whole range the sigmoid changes in and beyond it, signed zeros, and a count
    /// that leaves a tail after the vector loops.
    static func inputs() -> (gate: [Float], up: [Float]) {
        var random = KernelRandom(seed: 17)
        var gate = (0..<1003).map { i in random.unit() * (i % 50 == 0 ? 120 : 9) }
        gate[0...7] = [0, -0.0, 100, -100, 79.9, -80.1, 1e-30, -1e-30]
        let up = (0..<1003).map { _ in random.unit() * 4 }
        return (gate, up)
    }

    func run(_ gate: [Float], _ up: [Float], isa: Int32) throws(KernelError) -> [Float] {
        var g = gate
        let status = sa_swiglu(&g, up, g.count, isa)
        guard status == SA_OK.rawValue else { throw KernelError(status: status) }
        return g
    }

    /// silu(g) * up within 8 units in the last place of the exact value (the exponential is within
    /// 2, and a division and three products follow), except where the exact value is below 2^-100,
    /// which the kernel may flush; every path gives the same bits.
    @Test func matchesTheExactFunctionWithTheSameBitsOnEveryPath() throws {
        let (gate, up) = Self.inputs()
        let scalar = try run(gate, up, isa: KernelISA.scalar.value)
        for i in gate.indices {
            let g = Double(gate[i])
            let exact = g / (1 + Foundation.exp(-g)) * Double(up[i])
            let error = abs(Double(scalar[i]) - exact)
            #expect(error <= 8 * Double(Float.ulpOfOne) / 2 * abs(exact) || abs(exact) < 0x1p-100,
                    "gate \(gate[i]) up \(up[i]): \(scalar[i]) vs \(exact)")
        }
        for isa in KernelISA.all where runsHere(isa) {
            #expect(bitPatterns(try run(gate, up, isa: isa.value)) == bitPatterns(scalar), "\(isa.testDescription)")
        }
    }

    @Test func badArgumentsAreRejected() throws {
        let (gate, up) = Self.inputs()
        #expect(throws: KernelError(status: SA_ERR_ARGUMENT.rawValue)) { try run(gate, up, isa: 5) }
        for isa in KernelISA.all where !isa.isAvailable {
            #expect(throws: KernelError(status: SA_ERR_ISA.rawValue)) { try run(gate, up, isa: isa.value) }
        }
    }
}
