import Foundation
import ShiftAddModel
import ShiftAddTestSupport
import ShiftAddTokenizer

/// The SmolLM2 tokenizer as the GGUF reader describes it, built once for all tests.
private let smolLM2: Result<Tokenizer, any Error> = Result {
    let model = try GGUFReader.read(path: try defaultModelPath())
    guard let spec = model.tokenizer else {
        throw FixtureError("\(model.path) describes no tokenizer")
    }
    return try Tokenizer(spec: spec)
}

func smolLM2Tokenizer() throws -> Tokenizer { try smolLM2.get() }

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Texts and the ids Hugging Face `tokenizers` gives them (Scripts/make_tokenizer_golden.py).
struct GoldenEncodings: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
    }

    /// Encoded as plain text; each decodes back to its text.
    let cases: [Case]
    /// Encoded with control-token texts parsed as tokens.
    let specialCases: [Case]

    static func load() throws -> GoldenEncodings {
        guard let url = Bundle.module.url(forResource: "smollm2_encode", withExtension: "json", subdirectory: "Golden") else {
            throw FixtureError("Golden/smollm2_encode.json is missing from the test bundle")
        }
        return try JSONDecoder().decode(GoldenEncodings.self, from: Data(contentsOf: url))
    }
}
