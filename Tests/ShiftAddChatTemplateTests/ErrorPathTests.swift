import ShiftAddChatTemplate
import Testing

/// Bad templates and runaway templates fail with a `TemplateError`, never a crash.
@Suite struct ErrorPathTests {
    @Test func syntaxErrorsCarryLineAndColumn() throws {
        let error = try #require(failure("line one\n  {{ 1 + }}"))
        #expect(error.kind == .syntax)
        #expect(error.line == 2)
        #expect(error.column == 10)
        #expect(error.description.hasPrefix("line 2, column 10: "))
    }

    @Test func unterminatedTagsAreSyntaxErrors() throws {
        for (source, line, column, fragment) in [
            ("ok\n{{ messages", 2, 1, "missing end of tag '}}'"),
            ("{% if true", 1, 1, "missing end of tag '%}'"),
            ("a {# never closed", 1, 3, "missing end of comment tag"),
            ("{{ 'open }}", 1, 4, "unterminated string literal"),
            ("{{ (1 + 2", 1, 4, "unclosed '('"),
            ("{{ (1 + 2 }}", 1, 11, "unexpected '}', expected ')'"),
            ("{% for m in messages %}x", 1, 4, "'for' block needs 'else' or 'endfor'"),
            ("a\n {% if a %}x{% else %}y", 2, 5, "needs 'endif'"),
        ] {
            let error = try #require(failure(source), "\(source)")
            #expect(error.kind == .syntax, "\(source)")
            #expect(error.line == line && error.column == column, "\(source): \(error)")
            #expect(error.message.contains(fragment), "\(source): \(error.message)")
        }
    }

    @Test func unknownFiltersAndTestsAreRejectedAtParseTime() throws {
        let filter = try #require(failure("{% if false %}{{ x | frobnicate }}{% endif %}"))
        #expect(filter.kind == .syntax)
        #expect(filter.message == "no filter named 'frobnicate'")
        #expect(filter.line == 1 && filter.column == 22)
        let test = try #require(failure("{{ x is frobnicated }}"))
        #expect(test.message == "no test named 'frobnicated'")
    }

    @Test func unknownTagsAndMisplacedStatements() throws {
        #expect(failure("{% endif %}")?.message == "unknown tag 'endif'")
        #expect(failure("{% include 'x' %}")?.message == "unknown tag 'include'")
        #expect(failure("{% break %}")?.message == "'break' outside of a loop")
        #expect(failure("{{ }}")?.kind == .syntax)
        #expect(failure("{{ 1 2 }}")?.kind == .syntax)
        #expect(failure("{% set true = 1 %}")?.kind == .syntax)
    }

    @Test func runtimeErrorsNameTheLineOfTheFailingExpression() throws {
        let error = try #require(failure("ok\n{{ 'a' + 1 }}"))
        #expect(error.kind == .runtime)
        #expect(error.message == "can only concatenate str (not \"int\") to str")
        #expect(error.line == 2)
    }

    @Test func raiseExceptionCarriesTheTemplateMessage() throws {
        let error = try #require(failure("{% if true %}{{ raise_exception('Roles must alternate') }}{% endif %}"))
        #expect(error.kind == .raised)
        #expect(error.message == "Roles must alternate")
        #expect(error.description == "Roles must alternate")
        #expect(error.line == nil)
    }

    @Test func runawayLoopsHitTheIterationLimit() throws {
        let nested = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        let error = try #require(failure(nested))
        #expect(error.kind == .limitExceeded)
        #expect(error.message == "loops ran more than 1000000 iterations")
        let small = RenderLimits(maxLoopIterations: 10)
        #expect(try render("{% for i in range(10) %}{% endfor %}", limits: small) == "")
        #expect(failure("{% for i in range(11) %}{% endfor %}", limits: small)?.kind == .limitExceeded)
    }

    @Test func growingOutputHitsTheSizeLimit() throws {
        let limits = RenderLimits(maxOutputBytes: 1000)
        let doubling = "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
        #expect(failure(doubling, limits: limits)?.kind == .limitExceeded)
        #expect(failure("{{ 'x' * 100000000000 }}")?.kind == .limitExceeded)
        #expect(failure("{% for i in range(2000) %}xx{% endfor %}", limits: limits)?.kind == .limitExceeded)
    }

    @Test func recursiveMacrosHitTheCallDepthLimit() throws {
        let error = try #require(failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
        #expect(error.kind == .limitExceeded)
        #expect(error.message == "macro calls nested deeper than 40")
    }

    @Test func deeplyNestedSourceIsRejectedNotOverflowed() throws {
        let parentheses = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        #expect(failure(parentheses)?.message == "template is nested too deeply")
        let blocks = String(repeating: "{% if true %}", count: 500) + String(repeating: "{% endif %}", count: 500)
        #expect(failure(blocks)?.message == "template is nested too deeply")
        #expect(try render("{{ " + String(repeating: "(", count: 30) + "7" + String(repeating: ")", count: 30) + " }}") == "7")
    }

    @Test func integerOverflowIsAnErrorNotATrap() throws {
        #expect(failure("{{ 9223372036854775807 + 1 }}")?.message == "integer overflow")
        #expect(failure("{{ 2 ** 64 }}")?.message == "integer overflow")
        #expect(failure("{{ 99999999999999999999 }}")?.kind == .syntax)
    }

    @Test func badArgumentsAreRuntimeErrors() throws {
        #expect(failure("{{ 'a'.strip(1, 2) }}")?.message == "strip() takes at most 1 argument (2 given)")
        #expect(failure("{{ 'a' | trim(nope=1) }}")?.message == "trim() got an unexpected keyword argument 'nope'")
        #expect(failure("{{ 'a'.split('') }}")?.message == "empty separator")
        #expect(failure("{{ [1, 2][::0] }}")?.message == "slice step cannot be zero")
        #expect(failure("{{ {[1]: 2} }}")?.message == "unhashable type: 'list'")
    }
}
