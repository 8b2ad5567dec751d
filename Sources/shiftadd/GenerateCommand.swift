import Foundation
import ShiftAddChatTemplate
import ShiftAddCommandLine
import ShiftAddEngine
import ShiftAddTokenizer

/// `shiftadd generate`: continue a prompt, streaming text to standard output.
enum GenerateCommand: CLICommand {
    static let spec = CommandSpec(
        name: "generate", summary: "Continue a prompt with a model, streaming the text",
        usage: "shiftadd generate --model PATH --prompt TEXT [options]",
        options: LoadedModel.options + [
            .init("prompt", value: "TEXT", help: "Text to continue, or the user message with --chat"),
            .init("chat", help: "Treat the prompt as a user message and format it with the model's chat template"),
            .init("system", value: "TEXT", help: "System message for --chat"),
            .init("max-tokens", value: "N", default: "128", help: "Tokens to generate"),
            .init("temperature", value: "T", default: "0", help: "Sampling temperature; 0 is greedy"),
            .init("top-k", value: "K", default: "0", help: "Keep the K most likely tokens; 0 keeps all"),
            .init("top-p", value: "P", default: "1", help: "Keep the most likely tokens up to probability P; 0 is greedy"),
            .init("min-p", value: "P", default: "0", help: "Keep tokens at least P times as likely as the most likely one"),
            .init("repetition-penalty", value: "R", default: "1", help: "Divide positive logits of prompt and generated tokens by R (negative: multiply)"),
            .init("presence-penalty", value: "X", default: "0", help: "Subtract X from the logits of generated tokens"),
            .init("frequency-penalty", value: "X", default: "0", help: "Subtract X times its count from each generated token's logit"),
            .init("seed", value: "S", default: "0", help: "Random seed for sampling (a 64-bit integer); the API's seed S gives the same text"),
            .init("ignore-eos", help: "Keep generating past the end-of-sequence token"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let prompt = try a.required("prompt")
        let maxTokens = try a.int("max-tokens", range: 1...1_000_000)!
        // The knobs, defaults (temperature's aside: greedy here, 1 in the API) and top-p 0 of
        // `/v1/completions`, so that the same seed and settings give the same text.
        let repetitionPenalty = try a.double("repetition-penalty")!
        guard repetitionPenalty > 0 else {
            throw ArgumentError.invalidValue(option: "repetition-penalty", value: a.string("repetition-penalty") ?? "", reason: "must be > 0")
        }
        let parameters = SamplingParameters(
            temperature: Float(try a.double("temperature", range: 0...100)!), topK: try a.int("top-k", range: 0...Int.max)!,
            topP: Float(try a.double("top-p", range: 0...1)!), minP: Float(try a.double("min-p", range: 0...1)!),
            seed: try seed(a), repetitionPenalty: Float(repetitionPenalty),
            presencePenalty: Float(try a.double("presence-penalty", range: -2...2)!),
            frequencyPenalty: Float(try a.double("frequency-penalty", range: -2...2)!)).zeroTopPAsGreedy
        let ignoreEOS = try a.flag("ignore-eos")
        let chat = try a.flag("chat")
        let model = try LoadedModel(a)
        let tokenizer = model.tokenizer

        let promptTokens: [Int]
        if chat {
            guard let source = model.chatTemplate else {
                throw CLIError("\(model.path): the model has no chat template; run without --chat")
            }
            var messages = [ChatMessage(role: "user", content: prompt)]
            if let system = a.string("system") { messages.insert(ChatMessage(role: "system", content: system), at: 0) }
            let spec = model.spec
            let text = try ChatTemplate(source: source).render(
                messages: messages, addGenerationPrompt: true,
                bosToken: spec.bosTokenId.map { spec.tokens[$0] } ?? "", eosToken: spec.eosTokenId.map { spec.tokens[$0] } ?? "")
            promptTokens = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        } else {
            // As the scheduler reads a `/v1/completions` prompt: BOS where the vocabulary asks for it,
            // special tokens written in the text parsed as such.
            promptTokens = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        }
        guard !promptTokens.isEmpty else { throw CLIError("the prompt encodes to no tokens") }
        let capacity = min(model.config.contextLength, promptTokens.count + maxTokens)
        guard promptTokens.count < capacity else {
            throw CLIError("prompt of \(promptTokens.count) tokens leaves no room in the context of \(model.config.contextLength)")
        }
        let session = model.makeSession(capacity)
        var sampler = TokenSampler(parameters: parameters, vocabSize: model.config.vocabSize)
        var text = UTF8Assembler()
        if !chat { print(prompt, terminator: "") }
        fflush(nil)
        session.generate(prompt: promptTokens, maxTokens: maxTokens, sampler: &sampler,
                         stopTokens: ignoreEOS ? [] : tokenizer.endOfGenerationIds) { token in
            print(text.append(tokenizer.tokenBytes(token)), terminator: "")
            fflush(nil)
        }
        print(text.flush())
    }

    /// Any 64-bit integer, signed or not, read as the API reads `seed` (a negative one by its bit pattern).
    private static func seed(_ a: ParsedArguments) throws -> UInt64 {
        let raw = a.string("seed") ?? "0"
        if let unsigned = UInt64(raw) { return unsigned }
        guard let signed = Int64(raw) else {
            throw ArgumentError.invalidValue(option: "seed", value: raw, reason: "not a 64-bit integer")
        }
        return UInt64(bitPattern: signed)
    }
}
