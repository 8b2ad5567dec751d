import Foundation
import ShiftAddScheduler
import ShiftAddServer
import Testing

private func object(_ value: JSONValue) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(value.serialized())) as? [String: Any])
}

private let sampleLogprobs = [
    TokenLogprob(token: 5, text: "He", bytes: [72, 101], logprob: -0.25, top: [
        TokenAlternative(token: 5, text: "He", bytes: [72, 101], logprob: -0.25),
        TokenAlternative(token: 9, text: "A", bytes: [65], logprob: -1.5),
    ]),
    TokenLogprob(token: 7, text: "llo", bytes: [108, 108, 111], logprob: -0.5, top: [
        TokenAlternative(token: 7, text: "llo", bytes: [108, 108, 111], logprob: -0.5),
        TokenAlternative(token: 8, text: "y", bytes: [121], logprob: -2),
    ]),
]

@Suite struct ResponseShapeTests {
    @Test func jsonValueKeepsOrderAndEscapes() {
        let value = JSONValue.object([
            ("b", .int(1)), ("a", .string("q\"\\\n\t\u{1}é")), ("n", .null), ("t", .bool(true)),
            ("x", .float(0.1)), ("i", .float(-.infinity)), ("d", .number(2)), ("l", .array([.int(-3), .number(1.5)])),
        ])
        #expect(value.text == #"{"b":1,"a":"q\"\\\n\t\u0001é","n":null,"t":true,"x":0.1,"i":-9999,"d":2,"l":[-3,1.5]}"#)
    }

    @Test func errorShape() throws {
        let error = APIError.invalid("temperature must be a number between 0 and 2", param: "temperature")
        #expect(error.json.text == #"{"error":{"message":"temperature must be a number between 0 and 2","#
            + #""type":"invalid_request_error","param":"temperature","code":null}}"#)
        #expect(error.status == 400)
        let notAllowed = APIError.methodNotAllowed("GET", path: "/v1/completions", allowed: ["POST"])
        #expect(notAllowed.status == 405)
        #expect(notAllowed.headers["Allow"] == "POST, OPTIONS")
    }

    @Test func admissionErrorsMapToStatuses() {
        #expect(APIError(.overloaded(queued: 16, limit: 16), promptParam: "prompt").status == 429)
        #expect(APIError(.overloaded(queued: 16, limit: 16), promptParam: "prompt").code == "overloaded")
        let long = APIError(.promptTooLong(promptTokens: 60, maxTokens: 16, context: 64), promptParam: "messages")
        #expect(long.status == 400)
        #expect(long.param == "messages")
        #expect(long.code == "context_length_exceeded")
        #expect(long.message.contains("60") && long.message.contains("16") && long.message.contains("64"))
        #expect(APIError(.invalid("the prompt is empty"), promptParam: "prompt").status == 400)
        #expect(APIError(.shuttingDown, promptParam: "prompt").status == 503)
    }

    @Test func completionResponse() throws {
        let builder = ResponseBuilder(kind: .text, id: "cmpl-1", created: 1700000000, model: "m")
        let body = builder.response(text: "Hello", finishReason: "length", logprobs: nil,
                                    usage: Usage(promptTokens: 3, completionTokens: 2, cachedTokens: 1))
        #expect(body.text == #"{"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m","#
            + #""choices":[{"index":0,"text":"Hello","logprobs":null,"finish_reason":"length"}],"#
            + #""usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":1}}}"#)
    }

    @Test func completionLogprobsShape() throws {
        let builder = ResponseBuilder(kind: .text, id: "cmpl-1", created: 1, model: "m")
        let body = try object(builder.response(text: "Say Hello", finishReason: "stop", logprobs: sampleLogprobs,
                                               logprobsOffset: 4, usage: Usage(promptTokens: 1, completionTokens: 2)))
        let choice = try #require((body["choices"] as? [[String: Any]])?.first)
        let logprobs = try #require(choice["logprobs"] as? [String: Any])
        #expect(logprobs["tokens"] as? [String] == ["He", "llo"])
        #expect(logprobs["token_logprobs"] as? [Double] == [-0.25, -0.5])
        #expect(logprobs["text_offset"] as? [Int] == [4, 6])
        let top = try #require(logprobs["top_logprobs"] as? [[String: Double]])
        #expect(top == [["He": -0.25, "A": -1.5], ["llo": -0.5, "y": -2]])
    }

    @Test func chatResponseAndLogprobsShape() throws {
        let builder = ResponseBuilder(kind: .chat, id: "chatcmpl-1", created: 1, model: "m")
        let body = try object(builder.response(text: "Hello", finishReason: "stop", logprobs: sampleLogprobs,
                                               usage: Usage(promptTokens: 4, completionTokens: 2)))
        #expect(body["object"] as? String == "chat.completion")
        let choice = try #require((body["choices"] as? [[String: Any]])?.first)
        let message = try #require(choice["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        #expect(message["content"] as? String == "Hello")
        #expect(choice["finish_reason"] as? String == "stop")
        let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
        #expect(content.count == 2)
        #expect(content[0]["token"] as? String == "He")
        #expect(content[0]["logprob"] as? Double == -0.25)
        #expect(content[0]["bytes"] as? [Int] == [72, 101])
        let top = try #require(content[1]["top_logprobs"] as? [[String: Any]])
        #expect(top.map { $0["token"] as? String } == ["llo", "y"])
        #expect(top.map { $0["logprob"] as? Double } == [-0.5, -2])
        #expect(top[1]["bytes"] as? [Int] == [121])
        let usage = try #require(body["usage"] as? [String: Any])
        #expect(usage["total_tokens"] as? Int == 6)
    }

    @Test func chatChunks() {
        let builder = ResponseBuilder(kind: .chat, id: "chatcmpl-1", created: 1, model: "m")
        let prefix = #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":"#
        #expect(builder.chunk(text: "", role: true).text
            == prefix + #"[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#)
        #expect(builder.chunk(text: "Hi", includeUsage: true).text
            == prefix + #"[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}"#)
        #expect(builder.chunk(text: nil, finishReason: "stop").text
            == prefix + #"[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#)
        #expect(builder.usageChunk(Usage(promptTokens: 2, completionTokens: 1)).text
            == prefix + #"[],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3,"#
            + #""prompt_tokens_details":{"cached_tokens":0}}}"#)
    }

    @Test func completionChunks() {
        let builder = ResponseBuilder(kind: .text, id: "cmpl-1", created: 1, model: "m")
        #expect(builder.chunk(text: "Hi").text == #"{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","#
            + #""choices":[{"index":0,"text":"Hi","logprobs":null,"finish_reason":null}]}"#)
        #expect(builder.chunk(text: "", finishReason: "length").text.contains(#""text":"","logprobs":null,"finish_reason":"length""#))
    }

    @Test func ids() {
        let text = ResponseBuilder.makeID(.text)
        let chat = ResponseBuilder.makeID(.chat)
        #expect(text.hasPrefix("cmpl-") && text.count == 5 + 32)
        #expect(chat.hasPrefix("chatcmpl-") && chat.count == 9 + 32)
        #expect(text != ResponseBuilder.makeID(.text))
    }

    @Test func serverSentEventFraming() {
        let event = ServerSentEvents.event(.object([("text", .string("a\nb"))]))
        #expect(String(decoding: event, as: UTF8.self) == "data: {\"text\":\"a\\nb\"}\n\n")
        #expect(String(decoding: ServerSentEvents.done, as: UTF8.self) == "data: [DONE]\n\n")
        #expect(String(decoding: ServerSentEvents.keepAlive, as: UTF8.self) == ": keep-alive\n\n")
        let headers = Dictionary(uniqueKeysWithValues: ServerSentEvents.headers)
        #expect(headers["content-type"]?.hasPrefix("text/event-stream") == true)
        #expect(headers["cache-control"] == "no-cache")
        #expect(headers["x-accel-buffering"] == "no")
    }
}
