import ShiftAddChatTemplate
import ShiftAddServer
import Testing

/// Decodes `json` as a completion request, expecting it to fail; returns the error.
private func completionError(_ json: String) -> APIError? {
    do {
        _ = try CompletionRequest(body: Array(json.utf8))
        return nil
    } catch {
        return error
    }
}

private func chatError(_ json: String) -> APIError? {
    do {
        _ = try ChatCompletionRequest(body: Array(json.utf8))
        return nil
    } catch {
        return error
    }
}

@Suite struct RequestDecodingTests {
    @Test func completionDefaults() throws {
        let r = try CompletionRequest(body: Array(#"{"prompt":"Hello"}"#.utf8))
        #expect(r.prompt == .text("Hello"))
        #expect(r.echo == false)
        let o = r.options
        #expect(o.model == nil)
        #expect(o.maxTokens == 16)
        #expect(o.temperature == 1)
        #expect(o.topP == 1)
        #expect(o.topK == 0)
        #expect(o.minP == 0)
        #expect(o.seed == nil)
        #expect(o.stop == [])
        #expect(o.presencePenalty == 0)
        #expect(o.frequencyPenalty == 0)
        #expect(o.repetitionPenalty == 1)
        #expect(o.logprobs == nil)
        #expect(o.ignoreEOS == false)
        #expect(o.stream == false)
        #expect(o.includeUsage == false)
    }

    @Test func completionFieldsAreRead() throws {
        let json = """
            {"model":"m","prompt":[1,2,3],"max_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.05,
             "seed":-1,"stop":["a","b"],"presence_penalty":-1.5,"frequency_penalty":2,"repetition_penalty":1.1,
             "logprobs":3,"echo":true,"n":1,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true},
             "user":{"not":"checked"}}
            """
        let r = try CompletionRequest(body: Array(json.utf8))
        #expect(r.prompt == .tokens([1, 2, 3]))
        #expect(r.echo)
        let o = r.options
        #expect(o.model == "m")
        #expect(o.maxTokens == 7)
        #expect(o.temperature == 0.5)
        #expect(o.topP == 0.9)
        #expect(o.topK == 40)
        #expect(o.minP == 0.05)
        #expect(o.seed == UInt64.max)
        #expect(o.stop == ["a", "b"])
        #expect(o.presencePenalty == -1.5)
        #expect(o.frequencyPenalty == 2)
        #expect(o.repetitionPenalty == 1.1)
        #expect(o.logprobs == 3)
        #expect(o.ignoreEOS)
        #expect(o.stream)
        #expect(o.includeUsage)
    }

    @Test func nullMeansDefault() throws {
        let r = try CompletionRequest(body: Array(#"{"prompt":"x","max_tokens":null,"temperature":null,"stop":null}"#.utf8))
        #expect(r.options.maxTokens == 16)
        #expect(r.options.temperature == 1)
        #expect(r.options.stop == [])
    }

    @Test func promptForms() throws {
        #expect(try CompletionRequest(body: Array(#"{"prompt":["one"]}"#.utf8)).prompt == .text("one"))
        #expect(try CompletionRequest(body: Array(#"{"prompt":[[4,5]]}"#.utf8)).prompt == .tokens([4, 5]))
        #expect(try CompletionRequest(body: Array(#"{"prompt":"x","stop":"END"}"#.utf8)).options.stop == ["END"])
        #expect(try CompletionRequest(body: Array(#"{"prompt":"x","max_tokens":2.0}"#.utf8)).options.maxTokens == 2)
    }

    /// Every field's type and range errors: status 400, the field named in `param` and the message.
    @Test(arguments: [
        (#"{"prompt":"x","max_tokens":0}"#, "max_tokens", "max_tokens must be an integer >= 1"),
        (#"{"prompt":"x","max_tokens":"5"}"#, "max_tokens", "max_tokens must be an integer >= 1"),
        (#"{"prompt":"x","max_tokens":1.5}"#, "max_tokens", "max_tokens must be an integer >= 1"),
        (#"{"prompt":"x","temperature":2.5}"#, "temperature", "temperature must be a number between 0 and 2"),
        (#"{"prompt":"x","temperature":-0.1}"#, "temperature", "temperature must be a number between 0 and 2"),
        (#"{"prompt":"x","temperature":"hot"}"#, "temperature", "temperature must be a number between 0 and 2"),
        (#"{"prompt":"x","temperature":true}"#, "temperature", "temperature must be a number between 0 and 2"),
        (#"{"prompt":"x","top_p":1.01}"#, "top_p", "top_p must be a number between 0 and 1"),
        (#"{"prompt":"x","top_k":-1}"#, "top_k", "top_k must be an integer >= 0"),
        (#"{"prompt":"x","top_k":2.5}"#, "top_k", "top_k must be an integer >= 0"),
        (#"{"prompt":"x","min_p":1.5}"#, "min_p", "min_p must be a number between 0 and 1"),
        (#"{"prompt":"x","seed":"1"}"#, "seed", "seed must be an integer"),
        (#"{"prompt":"x","seed":0.5}"#, "seed", "seed must be an integer"),
        (#"{"prompt":"x","presence_penalty":-2.5}"#, "presence_penalty", "presence_penalty must be a number between -2 and 2"),
        (#"{"prompt":"x","frequency_penalty":3}"#, "frequency_penalty", "frequency_penalty must be a number between -2 and 2"),
        (#"{"prompt":"x","repetition_penalty":0}"#, "repetition_penalty", "repetition_penalty must be a number > 0"),
        (#"{"prompt":"x","logprobs":6}"#, "logprobs", "logprobs must be an integer between 0 and 5"),
        (#"{"prompt":"x","logprobs":true}"#, "logprobs", "logprobs must be an integer between 0 and 5"),
        (#"{"prompt":"x","echo":1}"#, "echo", "echo must be a boolean"),
        (#"{"prompt":"x","n":0}"#, "n", "n must be an integer >= 1"),
        (#"{"prompt":"x","n":"1"}"#, "n", "n must be an integer >= 1"),
        (#"{"prompt":"x","ignore_eos":"yes"}"#, "ignore_eos", "ignore_eos must be a boolean"),
        (#"{"prompt":"x","stream":0}"#, "stream", "stream must be a boolean"),
        (#"{"prompt":"x","stream_options":true}"#, "stream_options", "stream_options must be an object"),
        (#"{"prompt":"x","stream_options":{"include_usage":"y"}}"#, "stream_options.include_usage",
         "stream_options.include_usage must be a boolean"),
        (#"{"prompt":"x","model":7}"#, "model", "model must be a string"),
        (#"{"prompt":"x","stop":["a","b","c","d","e"]}"#, "stop",
         "stop must be a non-empty string or an array of at most 4 non-empty strings"),
        (#"{"prompt":"x","stop":[1]}"#, "stop", "stop must be a non-empty string or an array of at most 4 non-empty strings"),
        (#"{"prompt":"x","stop":""}"#, "stop", "stop must be a non-empty string or an array of at most 4 non-empty strings"),
        (#"{}"#, "prompt", "prompt is required"),
        (#"{"prompt":""}"#, "prompt", "prompt must not be empty"),
        (#"{"prompt":[]}"#, "prompt", "prompt must not be empty"),
        (#"{"prompt":5}"#, "prompt", "prompt must be a string or an array of token ids"),
        (#"{"prompt":[1,-2]}"#, "prompt", "prompt must be a string or an array of token ids; token ids are integers >= 0"),
        (#"{"prompt":[1,"a"]}"#, "prompt", "prompt must be a string or an array of token ids; token ids are integers >= 0"),
        (#"{"prompt":["a","b"]}"#, "prompt", "prompt holds 2 prompts; one prompt per request is supported"),
    ])
    func completionFieldErrors(json: String, param: String, message: String) throws {
        let error = try #require(completionError(json))
        #expect(error.status == 400)
        #expect(error.type == "invalid_request_error")
        #expect(error.param == param)
        #expect(error.message == message)
    }

    @Test(arguments: ["", "{", "[1,2]", "\"text\"", "{\"prompt\":\"x\"", "nul"])
    func bodyMustBeAJSONObject(body: String) throws {
        let error = try #require(completionError(body))
        #expect(error.status == 400)
        #expect(error.param == nil)
        #expect(["the request body is not valid JSON", "the request body must be a JSON object"].contains(error.message))
    }

    @Test func chatDefaultsAndContent() throws {
        let json = """
            {"messages":[{"role":"system","content":"Be brief."},
                         {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"name":"x"},
                         {"role":"assistant","content":"ok"}]}
            """
        let r = try ChatCompletionRequest(body: Array(json.utf8))
        #expect(r.messages == [
            ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "a\nb", name: "x"),
            ChatMessage(role: "assistant", content: "ok"),
        ])
        #expect(r.options.maxTokens == nil)
        #expect(r.options.logprobs == nil)
    }

    @Test func chatTokenLimitsAndLogprobs() throws {
        let both = try ChatCompletionRequest(body: Array(
            #"{"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"max_completion_tokens":9}"#.utf8))
        #expect(both.options.maxTokens == 9)
        let old = try ChatCompletionRequest(body: Array(#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#.utf8))
        #expect(old.options.maxTokens == 5)
        let plain = try ChatCompletionRequest(body: Array(#"{"messages":[{"role":"user","content":"hi"}],"logprobs":true}"#.utf8))
        #expect(plain.options.logprobs == 0)
        let top = try ChatCompletionRequest(body: Array(
            #"{"messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":20}"#.utf8))
        #expect(top.options.logprobs == 20)
    }

    @Test(arguments: [
        (#"{}"#, "messages", "messages is required"),
        (#"{"messages":[]}"#, "messages", "messages must be a non-empty array of messages"),
        (#"{"messages":"hi"}"#, "messages", "messages must be a non-empty array of messages"),
        (#"{"messages":["hi"]}"#, "messages[0]", "messages[0] must be an object with role and content"),
        (#"{"messages":[{"content":"hi"}]}"#, "messages[0].role", "messages[0].role is required"),
        (#"{"messages":[{"role":"robot","content":"hi"}]}"#, "messages[0].role",
         "messages[0].role must be one of system, user, assistant, developer, tool"),
        (#"{"messages":[{"role":"user","content":"a"},{"role":"user"}]}"#, "messages[1].content", "messages[1].content is required"),
        (#"{"messages":[{"role":"user","content":3}]}"#, "messages[0].content",
         "messages[0].content must be a string or an array of text parts"),
        (#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}"#, "messages[0].content[0].type",
         "messages[0].content[0].type must be \"text\": only text parts are supported"),
        (#"{"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}"#, "messages[0].content[0].text",
         "messages[0].content[0].text must be a string"),
        (#"{"messages":[{"role":"user","content":"a"}],"max_completion_tokens":0}"#, "max_completion_tokens",
         "max_completion_tokens must be an integer >= 1"),
        (#"{"messages":[{"role":"user","content":"a"}],"max_tokens":-3}"#, "max_tokens", "max_tokens must be an integer >= 1"),
        (#"{"messages":[{"role":"user","content":"a"}],"logprobs":3}"#, "logprobs", "logprobs must be a boolean"),
        (#"{"messages":[{"role":"user","content":"a"}],"logprobs":true,"top_logprobs":21}"#, "top_logprobs",
         "top_logprobs must be an integer between 0 and 20"),
        (#"{"messages":[{"role":"user","content":"a"}],"top_logprobs":2}"#, "top_logprobs",
         "top_logprobs requires logprobs to be true"),
        (#"{"messages":[{"role":"user","content":"a"}],"temperature":3}"#, "temperature",
         "temperature must be a number between 0 and 2"),
    ])
    func chatFieldErrors(json: String, param: String, message: String) throws {
        let error = try #require(chatError(json))
        #expect(error.status == 400)
        #expect(error.param == param)
        #expect(error.message == message)
    }

    @Test func tokenizeAndDetokenizeBodies() throws {
        #expect(try TokenizeRequest(body: Array(#"{"prompt":"hi"}"#.utf8)).input == .text("hi", addSpecialTokens: true))
        #expect(try TokenizeRequest(body: Array(#"{"prompt":"hi","add_special_tokens":false}"#.utf8)).input
            == .text("hi", addSpecialTokens: false))
        #expect(try TokenizeRequest(body: Array(#"{"messages":[{"role":"user","content":"hi"}]}"#.utf8)).input
            == .messages([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true))
        #expect(try DetokenizeRequest(body: Array(#"{"tokens":[1,2]}"#.utf8)).tokens == [1, 2])
        #expect(throws: APIError.invalid("prompt (a string) or messages is required", param: "prompt")) {
            try TokenizeRequest(body: Array("{}".utf8))
        }
        #expect(throws: APIError.invalid("tokens must be an array of token ids (integers >= 0)", param: "tokens")) {
            try DetokenizeRequest(body: Array(#"{"tokens":[1.5]}"#.utf8))
        }
    }
}
