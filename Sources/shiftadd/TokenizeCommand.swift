import Foundation
import ShiftAddBundle
import ShiftAddCommandLine
import ShiftAddModel
import ShiftAddTokenizer

/// `shiftadd tokenize`: print token ids of a file as JSON, for checking the tokenizer.
enum TokenizeCommand: CLICommand {
    static let spec = CommandSpec(
        name: "tokenize", summary: "Print the token ids of a text file as JSON",
        usage: "shiftadd tokenize --model PATH --file FILE [--per-line] [--decode]",
        options: [
            .init("model", value: "PATH", help: "Bundle or checkpoint whose tokenizer to use"),
            .init("tokenizer", value: "PATH", help: "Tokenizer file for llama2.c checkpoints"),
            .init("file", value: "FILE", help: "UTF-8 text to encode"),
            .init("per-line", help: "Encode each line (split on \\n, without it) and print one array per line"),
            .init("special", help: "Add BOS/EOS as the model's metadata asks"),
            .init("parse-special", help: "Encode special-token text such as <|im_start|> as those tokens"),
            .init("decode", help: "The other way: FILE holds a JSON array of ids per line; print each decoded text as a JSON string"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let tokenizer = try Tokenizer(spec: try tokenizerSpec(model: try a.required("model"), tokenizerPath: a.string("tokenizer")))
        let path = try a.required("file")
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read") }
        let text = String(decoding: data, as: UTF8.self)
        if try a.flag("decode") {
            for line in text.split(separator: "\n") {
                guard let ids = try? JSONDecoder().decode([Int].self, from: Data(line.utf8)) else {
                    throw CLIError("\(path): '\(line.prefix(40))' is not a JSON array of token ids")
                }
                let json = try JSONEncoder().encode(tokenizer.decode(ids))
                print(String(decoding: json, as: UTF8.self))
            }
            return
        }
        let special = try a.flag("special")
        let parseSpecial = try a.flag("parse-special")
        // Split on the scalar "\n": as Characters, "\r\n" would be one unit and never match.
        let pieces = try a.flag("per-line")
            ? text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
            : [text]
        for piece in pieces {
            let ids = tokenizer.encode(piece, addSpecial: special, parseSpecial: parseSpecial)
            print("[" + ids.map(String.init).joined(separator: ",") + "]")
        }
    }
}

/// The tokenizer description of a bundle or checkpoint, without loading any weights.
func tokenizerSpec(model path: String, tokenizerPath: String?) throws -> TokenizerSpec {
    let spec = WeightBundle.isBundle(path: path)
        ? try WeightBundle(path: path).manifest.tokenizer
        : try ModelLoader.loadTokenizer(path: path, tokenizerPath: tokenizerPath)
    guard let spec else { throw CLIError("\(path): no tokenizer") }
    return spec
}
