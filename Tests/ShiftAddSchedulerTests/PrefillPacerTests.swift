import ShiftAddScheduler
import Testing

@Suite struct PrefillPacerTests {
    /// From the floor, doubling each mixed step while no decode-only step gives a reference.
    @Test func withoutAReferenceTheBudgetDoublesToTheCeiling() {
        var pacer = PrefillPacer(maxTokens: 64)
        #expect(pacer.minTokens == 8)
        #expect(pacer.budget == 8)
        var seen: [Int] = []
        for _ in 0..<4 {
            pacer.mixed(seconds: 10, promptTokens: pacer.budget)
            seen.append(pacer.budget)
        }
        #expect(seen == [16, 32, 64, 64])
        #expect(pacer.decodeSeconds == nil)
    }

    /// Decode-only steps of 20 ms leave 10 ms of a mixed step (1.5×) for prompt tokens: as many as
    /// fit at the last step's cost per token, at most twice the last budget, at least the floor.
    @Test func theBudgetFitsAMixedStepToTheSlowdown() {
        var pacer = PrefillPacer(maxTokens: 64)
        pacer.decoded(seconds: 0.020)
        var seen: [Int] = []
        // Cost per token: fits 100, 100, 100, then 20.5, 50.5 and 5 tokens into the 10 ms.
        for fits in [100, 100, 100, 20.5, 50.5, 5] {
            let tokens = pacer.budget
            pacer.mixed(seconds: 0.020 + Double(tokens) * (0.010 / fits), promptTokens: tokens)
            seen.append(pacer.budget)
        }
        #expect(seen == [16, 32, 64, 20, 40, 8])
    }

    /// A decode-only step ends a run of mixed steps; the next run starts from the floor again.
    @Test func aDecodeOnlyStepResetsToTheFloor() {
        var pacer = PrefillPacer(maxTokens: 48, slowdown: 2)
        pacer.decoded(seconds: 0.010)
        pacer.mixed(seconds: 0.100, promptTokens: 8)
        #expect(pacer.budget == 8)
        pacer.mixed(seconds: 0.009, promptTokens: 8)
        #expect(pacer.budget == 16)
        pacer.mixed(seconds: 0.010, promptTokens: 16)
        #expect(pacer.budget == 32)
        pacer.decoded(seconds: 0.010)
        #expect(pacer.budget == 8)
    }

    /// The reference follows decode-only steps smoothly: one slow step moves it a fifth of the way.
    @Test func theDecodeReferenceIsSmoothed() throws {
        var pacer = PrefillPacer(maxTokens: 4)
        #expect(pacer.minTokens == 4)
        pacer.decoded(seconds: 0.010)
        pacer.decoded(seconds: 0.060)
        #expect(abs(try #require(pacer.decodeSeconds) - 0.020) < 1e-12)
    }
}
