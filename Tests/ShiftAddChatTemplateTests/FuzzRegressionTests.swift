import ShiftAddChatTemplate
import Testing

/// Templates found by fuzzing the chat-template interpreter (Tests/Fuzz, target `chat-template`),
/// kept as tests. A few kilobytes of chained operators or suffixes built a tree thousands of levels
/// deep, and rendering it overflowed the stack; such chains now count against the nesting limit.
/// A recursive macro stacked its whole body once per call, which the render depth limit bounds.
@Suite struct FuzzRegressionTests {
    struct Chain: CustomTestStringConvertible, Sendable {
        let label: String
        let head: String
        let link: String
        var testDescription: String { label }

        func template(links: Int) -> String {
            "{{ " + head + String(repeating: link, count: links) + " }}"
        }
    }

    static let chains = [
        Chain(label: "subscripts", head: "x", link: "[0]"),
        Chain(label: "attributes", head: "x", link: ".a"),
        Chain(label: "calls", head: "x", link: "()"),
        Chain(label: "filters", head: "1", link: "|string"),
        Chain(label: "tests", head: "x", link: " is defined|string"),
        Chain(label: "additions", head: "1", link: "+1"),
        Chain(label: "products", head: "1", link: "*1"),
        Chain(label: "powers", head: "1", link: "**1"),
        Chain(label: "or", head: "0", link: " or 0"),
        Chain(label: "and", head: "1", link: " and 1"),
        Chain(label: "conditionals", head: "1", link: " if 1"),
    ]

    @Test(arguments: chains)
    func deepChainIsRefusedWhenParsed(_ chain: Chain) {
        #expect {
            _ = try ChatTemplate(source: chain.template(links: 5000))
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.kind == .syntax && error.message == "template is nested too deeply"
        }
    }

    @Test func shortChainsStillRender() throws {
        let sum = try ChatTemplate(source: "{{ 1" + String(repeating: "+1", count: 60) + " }}")
        #expect(try sum.render(messages: [], addGenerationPrompt: false) == "61")
        let suffixes = try ChatTemplate(source: "{{ messages[0]['content']" + String(repeating: "|upper|lower", count: 20) + " }}")
        #expect(try suffixes.render(messages: [ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false) == "hi")
    }

    /// 40 nested macro calls, each under a 60-link filter chain: about 2,400 levels, beyond what an
    /// 8 MiB stack holds, before the depth limit.
    @Test func recursiveMacroUnderLongChainsStopsAtTheDepthLimit() throws {
        let source = "{% macro m(n) %}{% if n > 0 %}{{ m(n - 1)" + String(repeating: "|string", count: 60)
            + " }}{% endif %}x{% endmacro %}{{ m(39) }}"
        let template = try ChatTemplate(source: source)
        #expect {
            _ = try template.render(messages: [], addGenerationPrompt: false)
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.kind == .limitExceeded
                && error.message == "blocks, expressions and macro calls nested deeper than 400"
        }
        let shallow = try ChatTemplate(source: "{% macro m(n) %}{% if n > 0 %}{{ m(n - 1)|string }}{% endif %}x{% endmacro %}{{ m(39) }}")
        #expect(try shallow.render(messages: [], addGenerationPrompt: false) == String(repeating: "x", count: 40))
    }
}
