import Foundation
import ShiftAddConvert
import Testing
import ShiftAddBundle

@Suite struct BitAllocationTests {
    /// SmolLM2-like projection sizes, 1 to 4 planes each at about 1.4 + b bits per weight, with
    /// random effects falling fourfold per plane.
    private func candidates(seed: UInt64, count: Int = 70) -> [[BitAllocator.Candidate]] {
        var rng = TestRandom(seed: seed)
        let sizes = [331_776, 110_592, 110_592, 331_776, 884_736, 884_736, 884_736]
        return (0..<count).map { i in
            let weights = sizes[i % sizes.count]
            let effect = exp(2 * rng.normal())
            return (1...4).map { b in
                .init(bits: b, bytes: weights * (b * 10 + 4) / 80, effect: effect * pow(4, Double(2 - b)))
            }
        }
    }

    private func cost(_ c: [[BitAllocator.Candidate]], _ chosen: [Int]) -> (bytes: Int, effect: Double) {
        zip(c, chosen).reduce((0, 0)) { ($0.0 + $1.0[$1.1].bytes, $0.1 + $1.0[$1.1].effect) }
    }

    @Test(arguments: [0.1, 0.35, 0.6, 0.9])
    func staysWithinTheBudgetAndSpendsIt(fraction: Double) throws {
        let c = candidates(seed: UInt64(fraction * 100))
        let low = cost(c, c.map { _ in 0 }).bytes, high = cost(c, c.map { $0.count - 1 }).bytes
        let budget = low + Int(Double(high - low) * fraction)
        let chosen = try BitAllocator.allocate(c, budget: budget)
        let (bytes, _) = cost(c, chosen)
        #expect(bytes <= budget)
        // Nothing left over that would buy one more plane for any projection.
        for (i, k) in chosen.enumerated() where k + 1 < c[i].count {
            #expect(bytes + c[i][k + 1].bytes - c[i][k].bytes > budget)
        }
        #expect(try BitAllocator.allocate(c, budget: budget) == chosen)
    }

    @Test func givesMorePlanesToProjectionsWithLargerEffectsOfTheSameSize() throws {
        let c = candidates(seed: 5, count: 210)
        let low = cost(c, c.map { _ in 0 }).bytes, high = cost(c, c.map { $0.count - 1 }).bytes
        let chosen = try BitAllocator.allocate(c, budget: (low + high) / 2)
        for i in c.indices {
            for j in c.indices where c[i][0].bytes == c[j][0].bytes && c[i][0].effect > c[j][0].effect {
                #expect(chosen[i] >= chosen[j])
            }
        }
    }

    /// On instances small enough to try every choice, the allocation is as good as the best one
    /// within a single upgrade's effect.
    @Test(arguments: 0..<8)
    func isCloseToTheBestChoiceOnSmallInstances(seed: Int) throws {
        let c = candidates(seed: UInt64(100 + seed), count: 5)
        let low = cost(c, c.map { _ in 0 }).bytes, high = cost(c, c.map { $0.count - 1 }).bytes
        let budget = low + (high - low) * (seed + 1) / 10
        let chosen = try BitAllocator.allocate(c, budget: budget)
        var best = Double.infinity
        for code in 0..<1024 {
            let choice = (0..<5).map { code >> (2 * $0) & 3 }
            let (bytes, effect) = cost(c, choice)
            if bytes <= budget { best = min(best, effect) }
        }
        let largestStep = c.map { $0[0].effect - $0[1].effect }.max()!
        #expect(cost(c, chosen).effect <= best + largestStep)
    }

    @Test func refusesBudgetsBelowTheSmallestWidths() throws {
        let c = candidates(seed: 9, count: 7)
        let low = cost(c, c.map { _ in 0 }).bytes
        #expect(try BitAllocator.allocate(c, budget: low) == c.map { _ in 0 })
        #expect(throws: QuantizationError.self) { try BitAllocator.allocate(c, budget: low - 1) }
        let unsorted: [[BitAllocator.Candidate]] = [[.init(bits: 2, bytes: 10, effect: 1), .init(bits: 1, bytes: 5, effect: 4)]]
        #expect(throws: QuantizationError.self) { try BitAllocator.allocate(unsorted, budget: 100) }
    }

    @Test func kendallTau() {
        #expect(BitAllocator.kendallTau([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(BitAllocator.kendallTau([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        // 5 concordant and 1 discordant pair of 6.
        #expect(abs(BitAllocator.kendallTau([1, 2, 3, 4], [1, 2, 4, 3]) - 4.0 / 6.0) < 1e-12)
    }
}
