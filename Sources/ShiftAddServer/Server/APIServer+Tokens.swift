import Foundation
import ShiftAddHTTP

extension APIServer {
    var modelObject: JSONValue {
        .object([
            ("id", .string(modelId)), ("object", .string("model")), ("created", .int(created)),
            ("owned_by", .string("shiftadd")), ("max_model_len", .int(scheduler.contextLength)),
        ])
    }

    /// `GET /v1/models/{model}`: the served model, or 404 for any other id.
    func model(_ request: HTTPRequest, _ exchange: Exchange) {
        let raw = String(request.path.dropFirst(Route.modelPrefix.count))
        let id = raw.removingPercentEncoding ?? raw
        guard id == modelId else { return exchange.fail(.modelNotFound(id, served: modelId)) }
        exchange.respond(json: modelObject)
    }

    func tokenize(_ request: HTTPRequest, _ exchange: Exchange) {
        do throws(APIError) {
            let body = try TokenizeRequest(body: request.body)
            try checkModel(body.model)
            let tokens: [Int]
            switch body.input {
            case let .text(text, addSpecialTokens):
                tokens = scheduler.tokenizer.encode(text, addSpecial: addSpecialTokens, parseSpecial: true)
            case let .messages(messages, addGenerationPrompt):
                let text = try renderChat(messages, addGenerationPrompt: addGenerationPrompt)
                tokens = scheduler.tokenizer.encode(text, addSpecial: false, parseSpecial: true)
            }
            exchange.respond(json: .object([
                ("tokens", .array(tokens.map { .int($0) })), ("count", .int(tokens.count)),
                ("max_model_len", .int(scheduler.contextLength)),
            ]))
        } catch {
            exchange.fail(error)
        }
    }

    func detokenize(_ request: HTTPRequest, _ exchange: Exchange) {
        do throws(APIError) {
            let body = try DetokenizeRequest(body: request.body)
            try checkModel(body.model)
            try checkTokens(body.tokens, param: "tokens")
            exchange.respond(json: .object([("prompt", .string(scheduler.tokenizer.decode(body.tokens)))]))
        } catch {
            exchange.fail(error)
        }
    }

    /// The special tokens, as vLLM's `/tokenizer_info` gives them: evaluation harnesses that
    /// tokenize through `/tokenize` read the end-of-text token here.
    var tokenizerInfo: JSONValue {
        .object([
            ("eos_token", .string(eosToken)), ("bos_token", bosToken.isEmpty ? .null : .string(bosToken)),
            ("pad_token", .null), ("model_max_length", .int(scheduler.contextLength)),
        ])
    }
}
