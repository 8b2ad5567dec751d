import Foundation
import ShiftAddConvert
import Testing
import ShiftAddBundle

@Suite struct BitAllocationTests {
    /// SmolLM2-like: per block q, k, v, o, gate, up, down.
    private func layers(seed: UInt64) -> [BitAllocator.Layer] {
        var rng = TestRandom(seed: seed)
        let sizes = [331_776, 110_592, 110_592, 331_776, 884_736, 884_736, 884_736]
        return (0..<30).flatMap { _ in sizes.map { BitAllocator.Layer(parameterCount: $0, score: exp(rng.normal())) } }
    }

    @Test(arguments: [2.2, 2.5, 3.0, 3.3])
    func meetsTheAverageAndFavoursSensitiveLayers(target: Double) throws {
        let ls = layers(seed: UInt64(target * 10))
        let a = try BitAllocator.allocate(ls, targetAverageBits: target)
        let total = ls.reduce(0) { $0 + $1.parameterCount }
        let used = zip(ls, a.bits).reduce(0) { $0 + $1.0.parameterCount * $1.1 }
        #expect(a.averageBits == Double(used) / Double(total))
        #expect(a.averageBits <= target)
        // Within the smallest layer's share of one bit of the target.
        #expect(target - a.averageBits <= Double(110_592) / Double(total) + 1e-12)
        #expect(a.bits.allSatisfy { (2...4).contains($0) })
        for i in ls.indices {
            for j in ls.indices where ls[i].score > ls[j].score { #expect(a.bits[i] >= a.bits[j]) }
        }
        #expect(try BitAllocator.allocate(ls, targetAverageBits: target) == a)
    }

    @Test func edgeTargets() throws {
        let ls = layers(seed: 3)
        #expect(try BitAllocator.allocate(ls, targetAverageBits: 2).bits.allSatisfy { $0 == 2 })
        #expect(try BitAllocator.allocate(ls, targetAverageBits: 4.5).bits.allSatisfy { $0 == 4 })
        #expect(throws: QuantizationError.self) { try BitAllocator.allocate(ls, targetAverageBits: 1.9) }
        let two = try BitAllocator.allocate([.init(parameterCount: 100, score: 1), .init(parameterCount: 100, score: 5)],
                                            targetAverageBits: 2.5)
        #expect(two.bits == [2, 3])
        #expect(two.averageBits == 2.5)
    }
}
