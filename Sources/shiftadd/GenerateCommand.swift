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
            .init("top-p", value: "P", default: "1", help: "Keep the smallest set of tokens with probability >= P"),
            .init("seed", value: "S", default: "0", help: "Random seed for sampling"),
            .init("ignore-eos", help: "Keep generating past the end-of-sequence token"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let prompt = try a.required("prompt")
        let maxTokens = try a.int("max-tokens", range: 1...1_000_000)!
        var sampler = Sampler(temperature: Float(try a.double("temperature", range: 0...100)!),
                              topK: try a.int("top-k", range: 0...Int.max)!,
                              topP: Float(try a.double("top-p", range: 0...1)!),
                              seed: UInt64(truncatingIfNeeded: try a.int("seed")!))
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
            promptTokens = tokenizer.encode(prompt)
        }
        guard !promptTokens.isEmpty else { throw CLIError("the prompt encodes to no tokens") }
        let capacity = min(model.config.contextLength, promptTokens.count + maxTokens)
        guard promptTokens.count < capacity else {
            throw CLIError("prompt of \(promptTokens.count) tokens leaves no room in the context of \(model.config.contextLength)")
        }
        let session = model.makeSession(capacity)
        var logits = session.append(promptTokens, allLogits: false)
        var text = UTF8Assembler()
        if !chat { print(prompt, terminator: "") }
        fflush(nil)
        while true {
            let next = logits.withUnsafeBufferPointer { sampler.sample($0) }
            if !ignoreEOS, tokenizer.endOfGenerationIds.contains(next) { break }
            print(text.append(tokenizer.tokenBytes(next)), terminator: "")
            fflush(nil)
            if session.count == capacity { break }
            logits = session.append([next], allLogits: false)
        }
        print(text.flush())
    }
}
