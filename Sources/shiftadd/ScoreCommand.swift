import Foundation
import ShiftAddCommandLine
import ShiftAddEngine

/// `shiftadd score`: the log-likelihood of continuations after contexts, computed by one forward
/// pass per pair on the model directly (no server, no sampler), for checking what evaluation
/// harnesses get from the API.
///
/// Tokenizes as causal-model evaluation does: whitespace ending the context moves to the
/// continuation, the context and context + continuation are encoded without special tokens, and
/// the continuation is what the second has beyond the first. Prints one JSON line per request: the
/// continuation's token ids, the sum of their natural-log probabilities, and whether each is the
/// most likely token at its position.
enum ScoreCommand: CLICommand {
    static let spec = CommandSpec(
        name: "score", summary: "Log-likelihood of continuations given contexts (JSON lines in and out)",
        usage: "shiftadd score --model PATH --requests FILE",
        options: LoadedModel.options + [
            .init("requests", value: "FILE", help: "JSON lines of {\"context\": TEXT, \"continuation\": TEXT}"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let model = try LoadedModel(a)
        let path = try a.required("requests")
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read") }
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let context = object["context"] as? String, let continuation = object["continuation"] as? String,
                  !context.isEmpty, !continuation.isEmpty else {
                throw CLIError("\(path):\(i + 1): expected {\"context\": non-empty text, \"continuation\": non-empty text}")
            }
            print(try score(context: context, continuation: continuation, model: model))
        }
    }

    private static func score(context: String, continuation: String, model: LoadedModel) throws -> String {
        let kept = String(context.reversed().drop { $0.isWhitespace }.reversed())
        let moved = String(context.dropFirst(kept.count))
        let contextTokens = model.tokenizer.encode(kept, addSpecial: false, parseSpecial: true)
        let whole = model.tokenizer.encode(kept + moved + continuation, addSpecial: false, parseSpecial: true)
        guard !contextTokens.isEmpty, whole.count > contextTokens.count, whole.count <= model.config.contextLength else {
            throw CLIError("a context of \(contextTokens.count) and \(whole.count) tokens in all cannot be scored")
        }
        let logits = model.makeSession(whole.count).append(whole, allLogits: true)
        let vocab = logits.count / whole.count
        var total = 0.0
        var greedy = true
        logits.withUnsafeBufferPointer { all in
            for p in contextTokens.count..<whole.count {
                let row = UnsafeBufferPointer(rebasing: all[((p - 1) * vocab)..<(p * vocab)])
                let scored = LogSoftmax.score(whole[p], alternatives: 1, logits: row)
                total += Double(scored.logprob!)
                greedy = greedy && scored.top.first?.token == whole[p]
            }
        }
        let tokens = whole[contextTokens.count...].map(String.init).joined(separator: ",")
        return "{\"continuation_tokens\":[\(tokens)],\"logprob\":\(total),\"greedy\":\(greedy)}"
    }
}
