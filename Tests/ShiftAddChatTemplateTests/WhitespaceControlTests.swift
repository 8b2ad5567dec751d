import ShiftAddChatTemplate
import Testing

/// Whitespace rules of jinja2 with trim_blocks and lstrip_blocks, one rule per test.
@Suite struct WhitespaceControlTests {
    @Test func trimBlocksRemovesOnlyTheFirstNewlineAfterABlockTag() throws {
        #expect(try render("{% if true %}\nA\n{% endif %}\n\nB") == "A\n\nB")
        #expect(try render("{% if true %}  \nA{% endif %}") == "  \nA")
    }

    @Test func trimBlocksDoesNotApplyToVariableTags() throws {
        #expect(try render("{{ 'x' }}\nA") == "x\nA")
    }

    @Test func trimBlocksAppliesToComments() throws {
        #expect(try render("{# note #}\nA") == "A")
    }

    @Test func lstripBlocksRemovesIndentBeforeBlockAndCommentTags() throws {
        #expect(try render("A\n    {% if true %}B{% endif %}") == "A\nB")
        #expect(try render("A\n \t {# c #}B") == "A\nB")
        #expect(try render("    {% if true %}B{% endif %}") == "B")
    }

    @Test func lstripBlocksKeepsTextBeforeATagOnTheSameLine() throws {
        #expect(try render("A  {% if true %}B{% endif %}") == "A  B")
    }

    @Test func lstripBlocksDoesNotApplyToVariableTags() throws {
        #expect(try render("A\n    {{ 'B' }}") == "A\n    B")
    }

    @Test func lstripAppliesAfterATrimmedNewline() throws {
        #expect(try render("{% if true %}\n   {% if true %}X{% endif %}{% endif %}") == "X")
        #expect(try render("{{ 'a' }}   {% if true %}X{% endif %}") == "a   X")
    }

    @Test func minusMarkersStripAllWhitespaceOnTheirSide() throws {
        #expect(try render("A \n\t {{- 'B' -}} \n\n C") == "ABC")
        #expect(try render("A\n\n  {%- if true -%}\n\n  B  {%- endif %}") == "AB")
        #expect(try render("A  {#- c -#}  B") == "AB")
    }

    @Test func plusMarkersDisableLstripAndTrim() throws {
        #expect(try render("A\n  {%+ if true %}B{% endif %}") == "A\n  B")
        #expect(try render("{% if true +%}\nB{% endif %}") == "\nB")
    }

    @Test func newlinesAreNormalisedAndOneTrailingNewlineDropped() throws {
        #expect(try render("A\r\nB\rC\n") == "A\nB\nC")
        #expect(try render("A\n\n") == "A\n")
        #expect(try render("{{ 'x' }}\r\n") == "x")
    }

    @Test func unicodeWhitespaceCountsForMinusMarkers() throws {
        #expect(try render("A\u{00A0}\u{3000}{{- 'B' }}") == "AB")
    }

    @Test func bracesInsideExpressionsDoNotCloseTheTag() throws {
        #expect(try render("{{ {'a': {'b': 1}} }}") == "{'a': {'b': 1}}")
        #expect(try render("{{ {'a': 1}['a'] }}") == "1")
    }

    @Test func textWithLoneBracesIsLiteral() throws {
        #expect(try render("{ a } {x} %} }}") == "{ a } {x} %} }}")
    }
}
