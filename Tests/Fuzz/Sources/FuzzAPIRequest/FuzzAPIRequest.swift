import Foundation
import FuzzSupport
import ShiftAddServer

/// Input: a request body. Each route's decoder either accepts it with every field inside its
/// documented range or refuses it with a 400 whose JSON error body is valid JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = Fuzz.bytes(data, size)
    decode("completion") { () throws(APIError) in check(try CompletionRequest(body: body)) }
    decode("chat") { () throws(APIError) in check(try ChatCompletionRequest(body: body)) }
    decode("tokenize") { () throws(APIError) in check(try TokenizeRequest(body: body)) }
    decode("detokenize") { () throws(APIError) in
        let request = try DetokenizeRequest(body: body)
        Fuzz.check(request.tokens.allSatisfy { $0 >= 0 }, "negative token id accepted")
    }
    return 0
}

private func decode(_ route: String, _ body: () throws(APIError) -> Void) {
    do {
        try body()
    } catch {
        Fuzz.note("\(route): \(error)")
        Fuzz.check(error.status == 400 && !error.message.isEmpty, "\(route): unexpected error \(error)")
        let json = error.json.serialized()
        let parsed = try? JSONSerialization.jsonObject(with: Data(json))
        Fuzz.check(parsed is [String: Any], "\(route): error body is not a JSON object: \(String(decoding: json, as: UTF8.self))")
    }
}

private func check(_ o: GenerationOptions) {
    Fuzz.check((0...2).contains(o.temperature), "temperature \(o.temperature)")
    Fuzz.check((0...1).contains(o.topP) && (0...1).contains(o.minP), "top_p \(o.topP) min_p \(o.minP)")
    Fuzz.check(o.topK >= 0, "top_k \(o.topK)")
    Fuzz.check((-2...2).contains(o.presencePenalty) && (-2...2).contains(o.frequencyPenalty), "penalties")
    Fuzz.check(o.repetitionPenalty > 0, "repetition_penalty \(o.repetitionPenalty)")
    Fuzz.check(o.stop.count <= 4 && o.stop.allSatisfy { !$0.isEmpty }, "stop \(o.stop)")
    Fuzz.check(o.maxTokens.map { $0 >= 1 } ?? true, "max_tokens \(String(describing: o.maxTokens))")
}

private func check(_ r: CompletionRequest) {
    check(r.options)
    Fuzz.check(r.options.logprobs.map { (0...CompletionRequest.maxLogprobs).contains($0) } ?? true, "logprobs")
    switch r.prompt {
    case .text(let text): Fuzz.check(!text.isEmpty, "empty text prompt")
    case .tokens(let ids): Fuzz.check(!ids.isEmpty && ids.allSatisfy { $0 >= 0 }, "token prompt \(ids)")
    }
}

private func check(_ r: ChatCompletionRequest) {
    check(r.options)
    Fuzz.check(r.options.logprobs.map { (0...ChatCompletionRequest.maxTopLogprobs).contains($0) } ?? true, "top_logprobs")
    Fuzz.check(!r.messages.isEmpty, "no messages")
    Fuzz.check(r.messages.allSatisfy { ChatCompletionRequest.roles.contains($0.role) }, "role")
}

private func check(_ r: TokenizeRequest) {
    if case .messages(let messages, _) = r.input {
        Fuzz.check(!messages.isEmpty && messages.allSatisfy { ChatCompletionRequest.roles.contains($0.role) }, "messages")
    }
}
