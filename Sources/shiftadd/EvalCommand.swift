import Foundation
import ShiftAddCommandLine
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTokenizer

/// `shiftadd eval`: perplexity of a text file in non-overlapping windows.
enum EvalCommand: CLICommand {
    static let spec = CommandSpec(
        name: "eval", summary: "Measure perplexity on a text file",
        usage: "shiftadd eval --model PATH --text FILE [--ctx 512] [--max-tokens N] [--json]",
        options: LoadedModel.options + [
            .init("text", value: "FILE", help: "UTF-8 text, tokenized once as it is"),
            .init("ctx", value: "N", default: "512", help: "Window length in tokens"),
            .init("max-tokens", value: "N", help: "Use only the first N tokens of the text (default: all)"),
            .init("json", help: "Print one JSON object: tokens, nll, ppl, tokens_per_s"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let model = try LoadedModel(a)
        let tokenizer = model.tokenizer
        let path = try a.required("text")
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read") }
        let ctx = try a.int("ctx", range: 2...1_000_000)!
        var tokens = tokenizer.encode(String(decoding: data, as: UTF8.self), addSpecial: false)
        if let limit = try a.int("max-tokens", range: 1...Int.max) { tokens = Array(tokens.prefix(limit)) }
        let windows = tokens.count / ctx
        guard windows > 0 else { throw CLIError("the text has \(tokens.count) tokens, fewer than one window of \(ctx)") }
        let bos = model.spec.addBosToken ? model.spec.bosTokenId : nil
        guard ctx + (bos == nil ? 0 : 1) <= model.config.contextLength else {
            throw CLIError("--ctx \(ctx) exceeds the model's context of \(model.config.contextLength)")
        }

        let json = try a.flag("json")
        var progress = ProgressBar(label: "eval", total: windows)
        var nll = 0.0
        var scored = 0
        let start = Date()
        for w in 0..<windows {
            let window = Array(tokens[(w * ctx)..<((w + 1) * ctx)])
            let input = (bos.map { [$0] } ?? []) + window
            let offset = input.count - window.count
            let logits = model.makeSession(input.count).append(input, allLogits: true)
            let vocab = model.config.vocabSize
            logits.withUnsafeBufferPointer { l in
                // Row p predicts input[p + 1]; the window's first text token is never scored.
                for p in offset..<(input.count - 1) {
                    nll -= logSoftmax(UnsafeBufferPointer(rebasing: l[(p * vocab)..<((p + 1) * vocab)]), at: input[p + 1])
                    scored += 1
                }
            }
            if !json || isatty(STDERR_FILENO) != 0 {
                progress.update(w + 1, detail: String(format: "ppl %.4f", Foundation.exp(nll / Double(scored))))
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let mean = nll / Double(scored)
        let rate = Double(windows * (ctx + (bos == nil ? 0 : 1))) / seconds
        if json {
            try printJSON(["tokens": scored, "nll": mean, "ppl": Foundation.exp(mean), "tokens_per_s": rate])
        } else {
            print(String(format: "tokens scored %d, mean NLL %.6f, perplexity %.4f, %.1f tokens/s",
                         scored, mean, Foundation.exp(mean), rate))
        }
    }

    /// log p(target) under softmax(logits), in Double.
    static func logSoftmax(_ logits: UnsafeBufferPointer<Float>, at target: Int) -> Double {
        var m = -Float.infinity
        for v in logits where v > m { m = v }
        var sum = 0.0
        for v in logits { sum += Foundation.exp(Double(v - m)) }
        return Double(logits[target] - m) - Foundation.log(sum)
    }
}
