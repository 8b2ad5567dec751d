import ShiftAddScheduler
import Testing

@Suite struct PrefillPacerTests {
    @Test func theCeilingHoldsUntilADecodeOnlyStepWasMeasured() {
        var pacer = PrefillPacer(maxTokens: 64)
        #expect(pacer.budget == 64)
        pacer.mixed(seconds: 10, promptTokens: 64)
        #expect(pacer.budget == 64)
        #expect(pacer.decodeSeconds == nil)
    }

    /// Decode-only steps of 20 ms leave 10 ms of a mixed step (1.5×) for prompt tokens: as many as
    /// fit at the last step's cost per token, between the floor and the ceiling.
    @Test func theBudgetFitsAMixedStepToTheSlowdown() {
        var pacer = PrefillPacer(maxTokens: 64)
        pacer.decoded(seconds: 0.020)
        pacer.mixed(seconds: 0.020 + 64 * 0.0001, promptTokens: 64)
        #expect(pacer.budget == 64)
        pacer.mixed(seconds: 0.020 + 32 * (0.010 / 20.5), promptTokens: 32)
        #expect(pacer.budget == 20)
        pacer.mixed(seconds: 0.020 + 20 * (0.010 / 50.5), promptTokens: 20)
        #expect(pacer.budget == 50)
        pacer.mixed(seconds: 0.020 + 50 * 0.002, promptTokens: 50)
        #expect(pacer.budget == pacer.minTokens)
        #expect(pacer.minTokens == 16)
    }

    @Test func aMixedStepNoSlowerThanDecodingRestoresTheCeiling() {
        var pacer = PrefillPacer(maxTokens: 48, slowdown: 2)
        pacer.decoded(seconds: 0.010)
        pacer.mixed(seconds: 0.100, promptTokens: 48)
        #expect(pacer.budget == 16)
        pacer.mixed(seconds: 0.009, promptTokens: 16)
        #expect(pacer.budget == 48)
    }

    /// The reference follows decode-only steps smoothly: one slow step moves it a fifth of the way.
    @Test func theDecodeReferenceIsSmoothed() throws {
        var pacer = PrefillPacer(maxTokens: 8)
        #expect(pacer.minTokens == 8)
        pacer.decoded(seconds: 0.010)
        pacer.decoded(seconds: 0.060)
        #expect(abs(try #require(pacer.decodeSeconds) - 0.020) < 1e-12)
    }
}
