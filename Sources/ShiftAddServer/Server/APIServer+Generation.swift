import Foundation
import ShiftAddChatTemplate
import ShiftAddEngine
import ShiftAddHTTP
import ShiftAddScheduler

extension APIServer {
    func completions(_ request: HTTPRequest, _ lifecycle: GenerationLifecycle) {
        do throws(APIError) {
            if let error = readinessError { throw error }
            let body = try CompletionRequest(body: request.body)
            try checkModel(body.options.model)
            try checkOptions(body.options)
            let prompt: GenerationRequest.Prompt
            let echo: String?
            switch body.prompt {
            case .text(let text):
                prompt = .text(text)
                echo = body.echo ? text : nil
            case .tokens(let tokens):
                try checkTokens(tokens, param: "prompt")
                prompt = .tokens(tokens)
                echo = body.echo ? scheduler.tokenizer.decode(tokens) : nil
            }
            var generation = generationRequest(prompt, addSpecialTokens: true, body.options)
            let promptLogprobs = body.echo && body.options.logprobs != nil
            if promptLogprobs { generation.promptLogprobs = body.options.logprobs }
            generation.constraint = body.options.responseFormat.map { constraints.constraint(key: $0.key, grammar: $0.grammar) }
            submit(generation, options: body.options, kind: .text, echo: echo, promptLogprobs: promptLogprobs, tools: nil,
                   promptParam: "prompt", lifecycle)
        } catch {
            lifecycle.fail(error)
        }
    }

    func chatCompletions(_ request: HTTPRequest, _ lifecycle: GenerationLifecycle) {
        do throws(APIError) {
            if let error = readinessError { throw error }
            let body = try ChatCompletionRequest(body: request.body)
            try checkModel(body.options.model)
            try checkOptions(body.options)
            let text = try renderChat(body.messages, tools: body.tools, addGenerationPrompt: true)
            // The template wrote BOS and the turn markers itself.
            var generation = generationRequest(.text(text), addSpecialTokens: false, body.options)
            let calling = body.tools.flatMap { $0.choice == .none ? nil : $0 }
            if let calling, let call = calling.call {
                generation.constraint = constraints.constraint(key: calling.key, grammar: call, orText: calling.choice == .auto)
            } else if let format = body.options.responseFormat {
                generation.constraint = constraints.constraint(key: format.key, grammar: format.grammar)
            }
            submit(generation, options: body.options, kind: .chat, echo: nil, promptLogprobs: false, tools: calling,
                   promptParam: "messages", lifecycle)
        } catch {
            lifecycle.fail(error)
        }
    }

    /// The conversation as the model's chat template writes it. A template that reads `tools` gets
    /// them, and the messages with their tool fields; any other gets the generic format (`ToolUse`).
    func renderChat(_ messages: [ChatMessage], tools: ToolUse? = nil, addGenerationPrompt: Bool) throws(APIError) -> String {
        guard let chatTemplate else {
            throw .invalid("the served model has no chat template; use /v1/completions", param: "messages",
                           code: "no_chat_template")
        }
        let template = try chatTemplate.get()
        do {
            return try ToolUse.render(messages, tools: tools, with: template, addGenerationPrompt: addGenerationPrompt,
                                      bosToken: bosToken, eosToken: eosToken)
        } catch {
            throw .invalid("messages cannot be rendered with the model's chat template: \(error)", param: "messages")
        }
    }

    func checkModel(_ model: String?) throws(APIError) {
        if let model, model != modelId { throw .modelNotFound(model, served: modelId) }
    }

    /// `n` within the server's maximum, `logit_bias` ids inside the vocabulary; names the
    /// ignored fields in the debug log the first time each comes.
    func checkOptions(_ o: GenerationOptions) throws(APIError) {
        if o.choices > maxChoices { throw .invalid("n must be an integer between 1 and \(maxChoices)", param: "n") }
        let size = scheduler.tokenizer.vocabularySize
        if let bad = o.logitBias.keys.sorted().first(where: { $0 >= size }) {
            throw .invalid("logit_bias holds token id \(bad), outside the vocabulary of \(size) tokens", param: "logit_bias")
        }
        let new = loggedIgnoredFields.withLock { seen in o.ignoredFields.filter { seen.insert($0).inserted } }
        if !new.isEmpty {
            logger.debug("request fields ignored: they change nothing here, or their support is pending",
                         [("fields", new.joined(separator: ","))])
        }
    }

    func checkTokens(_ tokens: [Int], param: String) throws(APIError) {
        let size = scheduler.tokenizer.vocabularySize
        if let bad = tokens.first(where: { $0 >= size }) {
            throw .invalid("\(param) holds token id \(bad), outside the vocabulary of \(size) tokens", param: param)
        }
    }

    private func generationRequest(_ prompt: GenerationRequest.Prompt, addSpecialTokens: Bool,
                                   _ o: GenerationOptions) -> GenerationRequest {
        let sampling = SamplingParameters(
            temperature: Float(o.temperature), topK: o.topK, topP: Float(o.topP), minP: Float(o.minP), seed: o.seed,
            repetitionPenalty: Float(o.repetitionPenalty), presencePenalty: Float(o.presencePenalty),
            frequencyPenalty: Float(o.frequencyPenalty), logprobs: o.logprobs,
            logitBias: o.logitBias.mapValues { Float($0) }).zeroTopPAsGreedy
        return GenerationRequest(prompt: prompt, addSpecialTokens: addSpecialTokens, sampling: sampling,
                                 maxTokens: o.maxTokens, stop: o.stop, ignoreEOS: o.ignoreEOS)
    }

    private func submit(_ generationRequest: GenerationRequest, options: GenerationOptions, kind: ResponseBuilder.Kind,
                        echo: String?, promptLogprobs: Bool, tools: ToolUse?, promptParam: String,
                        _ lifecycle: GenerationLifecycle) {
        let builder = ResponseBuilder(kind: kind, id: ResponseBuilder.makeID(kind), created: Int(Date().timeIntervalSince1970),
                                      model: modelId)
        let settings = GenerationAnswer.Settings(
            builder: builder, choices: options.choices, stream: options.stream, includeUsage: options.includeUsage,
            logprobs: options.logprobs != nil, echo: echo, promptLogprobs: promptLogprobs, tools: tools,
            keepAliveSeconds: keepAliveSeconds)
        let exchange = lifecycle.exchange
        do throws(AdmissionError) {
            // Nil: the client left, before or during the submission.
            guard let generations = try lifecycle.submit(generationRequest, to: scheduler, answer: settings) else { return }
            let names = generations.map(\.description).joined(separator: ",")
            exchange.addLogFields([("generation", names), ("stream", String(options.stream))])
            if logger.isEnabled(.debug) {
                logger.debug("generation submitted", [("request_id", exchange.requestID), ("generation", names)]
                    + Self.requestFields(generation: generationRequest))
            }
        } catch {
            lifecycle.fail(APIError(error, promptParam: promptParam))
        }
    }

    /// What a debug line tells of a request: its size and sampling settings.
    private static func requestFields(generation g: GenerationRequest) -> [(String, String)] {
        let prompt: String
        switch g.prompt {
        case .text(let text): prompt = "\(text.utf8.count) bytes"
        case .tokens(let tokens): prompt = "\(tokens.count) tokens"
        }
        let s = g.sampling
        return [("prompt", prompt), ("max_tokens", g.maxTokens.map(String.init) ?? "context"),
                ("temperature", String(s.temperature)), ("top_p", String(s.topP)), ("top_k", String(s.topK)),
                ("min_p", String(s.minP)), ("seed", s.seed.map(String.init) ?? "-"), ("stop", String(g.stop.count))]
    }
}
