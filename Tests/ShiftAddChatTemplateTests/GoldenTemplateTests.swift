import ShiftAddChatTemplate
import Testing

/// Every golden case must render exactly as jinja2 did, or fail with jinja2's message.
@Suite struct GoldenTemplateTests {
    static let cases: [GoldenCase] = (try? GoldenCase.load()) ?? []

    @Test func goldenFileIsComplete() throws {
        let cases = try GoldenCase.load()
        #expect(cases.count >= 300)
        #expect(cases.contains { $0.name.hasPrefix("smollm2/") })
        #expect(cases.filter { $0.expectedError != nil }.count >= 30)
        #expect(cases.contains { $0.variables["tools"] != nil })
    }

    @Test(arguments: cases) func rendersLikeJinja(_ golden: GoldenCase) {
        switch (golden.render(), golden.expected, golden.expectedError) {
        case let (.success(text), expected?, _):
            #expect(text == expected)
        case let (.failure(error), _, expectedError?):
            #expect(error.message == expectedError)
            #expect(error.kind != .syntax)
        case let (.success(text), nil, expectedError):
            Issue.record("expected failure '\(expectedError ?? "")', rendered \(text.debugDescription)")
        case let (.failure(error), expected, _):
            Issue.record("expected \(expected?.debugDescription ?? "text"), failed: \(error)")
        }
    }

    /// SmolLM2's own template, as stored in the model file, with the conversation shapes a server sends.
    @Test func smolLM2TemplateMatchesJinja() throws {
        let smol = GoldenTemplateTests.cases.filter { $0.name.hasPrefix("smollm2/") }
        #expect(smol.count >= 16)
        for golden in smol where golden.expected != nil {
            #expect(try golden.render().get() == golden.expected, "\(golden.name)")
        }
    }
}
