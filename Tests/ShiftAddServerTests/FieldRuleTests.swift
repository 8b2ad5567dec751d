import ShiftAddServer
import Testing

private enum Route { case completion, chat }

/// Decodes `json` as a request of `route`, expecting it to fail; returns the error.
private func error(_ route: Route, _ json: String) -> APIError? {
    do throws(APIError) {
        switch route {
        case .completion: _ = try CompletionRequest(body: Array(json.utf8))
        case .chat: _ = try ChatCompletionRequest(body: Array(json.utf8))
        }
        return nil
    } catch {
        return error
    }
}

private let messages = #""messages":[{"role":"user","content":"hi"}]"#

/// Every request field is read, ignored because it changes nothing, or refused with a 400 naming it.
@Suite struct FieldRuleTests {
    @Test(arguments: [
        ("suffix", #""x""#), ("best_of", "2"), ("best_of", "0"),
    ])
    func refusedCompletionFieldsAreNamed(field: String, value: String) throws {
        let e = try #require(error(.completion, #"{"prompt":"x","\#(field)":\#(value)}"#))
        #expect(e.status == 400 && e.param == field)
        #expect(e.message.hasPrefix("\(field) is not supported"))
    }

    @Test(arguments: [
        ("audio", #"{"voice":"alloy","format":"wav"}"#), ("modalities", #"["text","audio"]"#),
        ("moderation", #"{"model":"omni"}"#), ("prediction", #"{"type":"content","content":"x"}"#),
        ("reasoning_effort", #""low""#), ("verbosity", #""low""#), ("web_search_options", "{}"),
        ("functions", #"[{"name":"f"}]"#), ("function_call", #""auto""#),
    ])
    func refusedChatFieldsAreNamed(field: String, value: String) throws {
        let e = try #require(error(.chat, #"{\#(messages),"\#(field)":\#(value)}"#))
        #expect(e.status == 400 && e.param == field)
        #expect(e.message.hasPrefix("\(field) is not supported"))
    }

    @Test func unknownFieldsAreNamed() throws {
        let e = try #require(error(.completion, #"{"prompt":"x","temprature":0}"#))
        #expect(e.param == "temprature" && e.message == "temprature is not a field of this request")
        // Chat-only fields are unknown to completions, and the other way round.
        #expect(error(.completion, #"{"prompt":"x","top_logprobs":2}"#)?.param == "top_logprobs")
        #expect(error(.chat, #"{\#(messages),"echo":true}"#)?.param == "echo")
        #expect(error(.chat, #"{\#(messages),"stream_options":{"include_usage":true,"x":1}}"#)?.param == "stream_options.x")
    }

    /// Fields that change nothing, null refused fields, and the harmless values of refused ones.
    @Test func meaninglessFieldsAreAcceptedAndReported() throws {
        let r = try ChatCompletionRequest(body: Array("""
            {\(messages),"user":"u","metadata":{"a":"b"},"store":false,"service_tier":"auto","safety_identifier":"s",
             "prompt_cache_key":"k","prompt_cache_retention":"24h","prompt_cache_options":{},"modalities":["text"],
             "audio":null,"stream_options":{"include_obfuscation":false}}
            """.utf8))
        #expect(r.options.ignoredFields == [
            "metadata", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "safety_identifier",
            "service_tier", "store", "user", "stream_options.include_obfuscation",
        ])
        #expect(try CompletionRequest(body: Array(#"{"prompt":"x","best_of":1,"suffix":null}"#.utf8)).options.ignoredFields == [])
    }

    /// Structured outputs and tools are read (ToolsAndFormatsTests has what they do).
    @Test func structuredOutputAndToolFieldsAreRead() throws {
        let r = try ChatCompletionRequest(body: Array("""
            {\(messages),"response_format":{"type":"text"},"tools":[],"tool_choice":"none","parallel_tool_calls":false}
            """.utf8))
        #expect(r.options.ignoredFields == [])
        #expect(r.options.responseFormat == nil && r.tools == nil)
    }

    @Test func nAndLogitBiasAreRead() throws {
        let o = try CompletionRequest(body: Array(#"{"prompt":"x","n":4,"logit_bias":{"7":-100,"12":2.5}}"#.utf8)).options
        #expect(o.choices == 4)
        #expect(o.logitBias == [7: -100, 12: 2.5])
        for bad in [#"{"a":1}"#, #"{"-1":1}"#, #"{"01":1}"#, #"{"7":101}"#, #"{"7":"1"}"#, "[1]"] {
            #expect(error(.completion, #"{"prompt":"x","logit_bias":\#(bad)}"#)?.param == "logit_bias", "\(bad)")
        }
    }

    @Test func maxTokensZeroOnlyWithEcho() throws {
        #expect(try CompletionRequest(body: Array(#"{"prompt":"x","max_tokens":0,"echo":true}"#.utf8)).options.maxTokens == 0)
        #expect(error(.completion, #"{"prompt":"x","max_tokens":0}"#)?.message == "max_tokens must be an integer >= 1")
    }
}
