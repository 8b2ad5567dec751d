import ShiftAddChatTemplate
import Testing

/// Values a template builds are bounded: a loop that keeps wrapping a value, a namespace set to hold
/// itself, or a value doubled in every iteration would otherwise overflow the stack when printed or
/// freed, or take exponential time.
@Suite struct ValueLimitTests {
    private func render(_ source: String, limits: RenderLimits = RenderLimits()) throws -> String {
        try ChatTemplate(source: source, limits: limits).render(messages: [], addGenerationPrompt: false)
    }

    private func expectLimit(_ source: String, limits: RenderLimits = RenderLimits(), message: String) {
        #expect {
            _ = try render(source, limits: limits)
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.kind == .limitExceeded && error.message == message
        }
    }

    private func wrapping(_ times: Int, in literal: String) -> String {
        "{% set ns = namespace(x=0) %}{% for i in range(\(times)) %}{% set ns.x = \(literal) %}{% endfor %}"
            + "{{ ns.x|length }}"
    }

    @Test func wrappingInALoopStopsAtTheDepthLimit() throws {
        for literal in ["[ns.x]", "(ns.x,)", "{'k': ns.x}", "dict(k=ns.x)", "namespace(k=ns.x)"] {
            expectLimit(wrapping(100_000, in: literal), message: "a value is nested deeper than 100 levels")
        }
        #expect(try render(wrapping(98, in: "[ns.x]")) == "1")
        #expect(try render(wrapping(98, in: "{'k': ns.x}")) == "1")
    }

    @Test func aNamespaceCannotHoldItself() {
        expectLimit("{% set ns = namespace(a=1) %}{% set ns.a = ns %}{{ ns }}",
                    message: "a value is nested deeper than 100 levels")
        expectLimit("{% set ns = namespace(a=1) %}{% set ns.a = [1, {'b': ns}] %}{{ ns }}",
                    message: "a value is nested deeper than 100 levels")
    }

    @Test func doublingStopsAtTheItemBudget() throws {
        let source = "{% set ns = namespace(x=[1]) %}{% for i in range(60) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}"
        expectLimit(source, limits: RenderLimits(maxValueItemsChecked: 1000),
                    message: "the values the template built hold more than 1000 items in all")
        #expect(try render("{% set x = [1] %}{% set y = [x, x] %}{% set z = [y, y] %}{{ z }}")
            == "[[[1], [1]], [[1], [1]]]")
    }

    @Test func aValueLargerThanTheOutputLimitIsRefused() throws {
        let limits = RenderLimits(maxOutputBytes: 10_000)
        let source = "{% set s = 'x' * 6000 %}{% set pair = [s, s] %}{{ pair|length }}"
        expectLimit(source, limits: limits, message: "a value exceeds the limit of 10000 bytes")
        #expect(try render("{% set s = 'x' * 4000 %}{% set pair = [s, s] %}{{ pair|length }}", limits: limits) == "2")
    }

    @Test func repeatingOrJoiningListsCountsTheirText() throws {
        let limits = RenderLimits(maxOutputBytes: 10_000)
        expectLimit("{% set s = 'x' * 1000 %}{{ ([s] * 11)|length }}", limits: limits,
                    message: "a value exceeds the limit of 10000 bytes")
        expectLimit("{% set s = 'x' * 3000 %}{{ ([s, s] + [s, s])|length }}", limits: limits,
                    message: "a value exceeds the limit of 10000 bytes")
        #expect(try render("{% set s = 'x' * 1000 %}{{ ([s] * 9)|length }}", limits: limits) == "9")
    }
}
