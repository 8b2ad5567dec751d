import Foundation
import ShiftAddScheduler
import Synchronization
import ShiftAddServer
import Testing

private let completionPath = "/v1/completions"
private let chatPath = "/v1/chat/completions"

/// Greedy, EOS ignored: the same request always gives the same tokens, and exactly max_tokens of them.
private func greedyCompletion(_ prompt: String, maxTokens: Int, extra: String = "") -> String {
    #"{"prompt":"\#(prompt)","max_tokens":\#(maxTokens),"temperature":0,"ignore_eos":true\#(extra)}"#
}

private func greedyChat(maxTokens: Int, extra: String = "") -> String {
    #"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"the cat"}],"#
        + #""max_tokens":\#(maxTokens),"temperature":0,"ignore_eos":true\#(extra)}"#
}

private func firstChoice(_ body: [String: Any]) throws -> [String: Any] {
    try #require((body["choices"] as? [[String: Any]])?.first)
}

private func decodeEvents(_ response: RawResponse) throws -> [[String: Any]] {
    let events = response.events
    #expect(events.last == "[DONE]")
    return try events.dropLast().map { event in
        try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
    }
}

@Suite(.serialized) struct APIServerEndToEndTests {
    @Test func completionHasOpenAIShapeAndExactUsage() throws {
        try TestServer.with { server in
            let response = try server.post(completionPath, greedyCompletion("the cat", maxTokens: 5))
            #expect(response.status == 200)
            #expect(response.header("content-type") == "application/json")
            let body = try response.json()
            #expect((body["id"] as? String)?.hasPrefix("cmpl-") == true)
            #expect(body["object"] as? String == "text_completion")
            #expect(body["model"] as? String == TestServer.modelId)
            #expect((body["created"] as? Int ?? 0) > 1_600_000_000)
            let choice = try firstChoice(body)
            #expect(choice["index"] as? Int == 0)
            #expect(choice["finish_reason"] as? String == "length")
            #expect(choice["logprobs"] is NSNull)
            let text = try #require(choice["text"] as? String)
            let tokenized = try server.post("/tokenize", #"{"prompt":"the cat"}"#).json()
            let usage = try #require(body["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == tokenized["count"] as? Int)
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(usage["total_tokens"] as? Int == (tokenized["count"] as? Int ?? 0) + 5)

            // Greedy decoding repeats itself, and the text is what the tokens decode to.
            let again = try firstChoice(try server.post(completionPath, greedyCompletion("the cat", maxTokens: 5)).json())
            #expect(again["text"] as? String == text)
            let echoed = try firstChoice(try server.post(completionPath,
                                                         greedyCompletion("the cat", maxTokens: 5, extra: #","echo":true"#)).json())
            #expect(echoed["text"] as? String == "the cat" + text)
        }
    }

    @Test func tokenPromptsMatchTextPrompts() throws {
        try TestServer.with { server in
            let tokens = try #require(try server.post("/tokenize", #"{"prompt":"the cat"}"#).json()["tokens"] as? [Int])
            let byText = try firstChoice(try server.post(completionPath, greedyCompletion("the cat", maxTokens: 6)).json())
            let byTokens = try firstChoice(try server.post(completionPath,
                #"{"prompt":\#(tokens),"max_tokens":6,"temperature":0,"ignore_eos":true}"#).json())
            #expect(byTokens["text"] as? String == byText["text"] as? String)
        }
    }

    /// A stop string taken from the middle of a greedy completion cuts it there, with reason `stop`.
    @Test func stopStringEndsTheCompletion() throws {
        try TestServer.with { server in
            let whole = try #require(try firstChoice(try server.post(completionPath,
                greedyCompletion("the cat", maxTokens: 24)).json())["text"] as? String)
            let characters = Array(whole)
            let start = try #require((2..<(characters.count - 1)).first { i in
                characters[i...(i + 1)].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
            }, "no two ASCII letters in \(whole.debugDescription)")
            let stop = String(characters[start...(start + 1)])
            let expected = String(whole[..<whole.range(of: stop)!.lowerBound])
            let stopJSON = String(decoding: JSONValue.string(stop).serialized(), as: UTF8.self)
            for stream in [false, true] {
                let response = try server.post(completionPath, greedyCompletion(
                    "the cat", maxTokens: 24, extra: #","stop":[\#(stopJSON)],"stream":\#(stream)"#))
                let choices = stream ? try decodeEvents(response).map(firstChoice) : [try firstChoice(try response.json())]
                #expect(choices.map { $0["text"] as? String ?? "" }.joined() == expected)
                #expect(choices.last?["finish_reason"] as? String == "stop")
            }
        }
    }

    @Test func completionLogprobs() throws {
        try TestServer.with { server in
            let body = try server.post(completionPath, greedyCompletion("the cat", maxTokens: 4, extra: #","logprobs":2"#)).json()
            let choice = try firstChoice(body)
            let logprobs = try #require(choice["logprobs"] as? [String: Any])
            let tokens = try #require(logprobs["tokens"] as? [String])
            let values = try #require(logprobs["token_logprobs"] as? [Double])
            let top = try #require(logprobs["top_logprobs"] as? [[String: Double]])
            let offsets = try #require(logprobs["text_offset"] as? [Int])
            #expect(tokens.count == 4 && values.count == 4 && top.count == 4 && offsets.count == 4)
            #expect(values.allSatisfy { $0 <= 0 })
            #expect(top.allSatisfy { (1...2).contains($0.count) })
            #expect(offsets.first == 0)
            #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 <= $1 })
            // Greedy: the chosen token is the most likely one.
            for (value, alternatives) in zip(values, top) { #expect(abs(value - alternatives.values.max()!) < 1e-6) }
        }
    }

    @Test func chatCompletion() throws {
        try TestServer.with { server in
            let response = try server.post(chatPath, greedyChat(maxTokens: 4, extra: #","logprobs":true,"top_logprobs":3"#))
            #expect(response.status == 200)
            let body = try response.json()
            #expect((body["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(body["object"] as? String == "chat.completion")
            let choice = try firstChoice(body)
            #expect(choice["finish_reason"] as? String == "length")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] is String)
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == 4)
            #expect(content.allSatisfy { ($0["top_logprobs"] as? [Any])?.count == 3 && $0["bytes"] is [Int] })
            // The prompt is the rendered template, tokenized as /tokenize does it.
            let tokenized = try server.post("/tokenize",
                #"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"the cat"}]}"#).json()
            let usage = try #require(body["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == tokenized["count"] as? Int)
            #expect(usage["completion_tokens"] as? Int == 4)
        }
    }

    @Test func chatWithoutTemplateIsRefused() throws {
        try TestServer.with(chatTemplate: nil) { server in
            let response = try server.post(chatPath, greedyChat(maxTokens: 2))
            #expect(response.status == 400)
            #expect(try response.error()["code"] as? String == "no_chat_template")
        }
    }

    @Test func streamedCompletionMatchesTheWholeOne() throws {
        try TestServer.with { server in
            let whole = try firstChoice(try server.post(completionPath, greedyCompletion("the cat", maxTokens: 8)).json())
            let response = try server.post(completionPath, greedyCompletion(
                "the cat", maxTokens: 8, extra: #","stream":true,"stream_options":{"include_usage":true}"#))
            #expect(response.status == 200)
            #expect(response.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(response.header("cache-control") == "no-cache")
            #expect(response.header("x-accel-buffering") == "no")
            #expect(response.text.hasSuffix("data: [DONE]\n\n"))
            let chunks = try decodeEvents(response)
            let usageChunk = try #require(chunks.last)
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            #expect((usageChunk["usage"] as? [String: Any])?["completion_tokens"] as? Int == 8)
            let choiceChunks = chunks.dropLast()
            #expect(choiceChunks.allSatisfy { $0["object"] as? String == "text_completion" && $0["usage"] is NSNull })
            let choices = try choiceChunks.map(firstChoice)
            #expect(choices.map { $0["text"] as? String ?? "" }.joined() == whole["text"] as? String)
            #expect(choices.last?["finish_reason"] as? String == "length")
            #expect(choices.dropLast().allSatisfy { $0["finish_reason"] is NSNull })
            #expect(Set(choiceChunks.map { $0["id"] as? String }).count == 1)
        }
    }

    @Test func streamedChat() throws {
        try TestServer.with { server in
            let whole = try firstChoice(try server.post(chatPath, greedyChat(maxTokens: 6)).json())
            let response = try server.post(chatPath, greedyChat(maxTokens: 6, extra: #","stream":true"#))
            #expect(response.status == 200)
            let chunks = try decodeEvents(response)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" && $0["usage"] == nil })
            let deltas = try chunks.map { try #require(try firstChoice($0)["delta"] as? [String: Any]) }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(deltas.compactMap { $0["content"] as? String }.joined()
                == (whole["message"] as? [String: Any])?["content"] as? String)
            #expect(try firstChoice(try #require(chunks.last))["finish_reason"] as? String == "length")
            #expect(deltas.last?.isEmpty == true)
        }
    }

    @Test func badInputGetsFieldNamedErrors() throws {
        try TestServer.with { server in
            let cases: [(String, String, Int, String?, String?)] = [
                (completionPath, "{not json", 400, nil, nil),
                (completionPath, #"{"prompt":"x","temperature":"hot"}"#, 400, "temperature", nil),
                (completionPath, #"{"prompt":"x","max_tokens":0}"#, 400, "max_tokens", nil),
                (completionPath, #"{"prompt":"x","top_p":7}"#, 400, "top_p", nil),
                (completionPath, #"{"prompt":""}"#, 400, "prompt", nil),
                (completionPath, #"{"prompt":[999999]}"#, 400, "prompt", nil),
                (completionPath, #"{"prompt":"x","n":9}"#, 400, "n", nil),
                (completionPath, #"{"prompt":"x","logit_bias":{"999999":1}}"#, 400, "logit_bias", nil),
                (completionPath, #"{"prompt":"x","model":"gpt-4"}"#, 404, "model", "model_not_found"),
                (completionPath, #"{"prompt":"x","max_tokens":5000}"#, 400, "prompt", "context_length_exceeded"),
                (chatPath, #"{"messages":[{"role":"robot","content":"x"}]}"#, 400, "messages[0].role", nil),
                (chatPath, #"{"messages":[{"role":"user","content":"x"}],"max_tokens":9000}"#, 400, "messages",
                 "context_length_exceeded"),
                ("/detokenize", #"{"tokens":[999999]}"#, 400, "tokens", nil),
            ]
            for (path, json, status, param, code) in cases {
                let response = try server.post(path, json)
                #expect(response.status == status, "\(json)")
                let error = try response.error()
                #expect(error["param"] as? String == param, "\(json)")
                #expect(error["code"] as? String == code, "\(json)")
                #expect((error["message"] as? String)?.isEmpty == false)
                #expect(error["type"] is String)
            }
            // A prompt longer than the context, as token ids.
            let long = Array(repeating: "65", count: TinyServedModel.contextLength + 1).joined(separator: ",")
            let response = try server.post(completionPath, #"{"prompt":[\#(long)],"max_tokens":1}"#)
            #expect(response.status == 400)
            #expect(try response.error()["message"] as? String
                == "the prompt has \(TinyServedModel.contextLength + 1) tokens and 1 more were requested: "
                + "\(TinyServedModel.contextLength + 2) exceeds the context of \(TinyServedModel.contextLength) tokens")
            // The server keeps serving.
            #expect(try server.post(completionPath, greedyCompletion("x", maxTokens: 1)).status == 200)
        }
    }

    @Test func routesAndMethods() throws {
        try TestServer.with { server in
            let missing = try server.request("GET", "/v2/nothing")
            #expect(missing.status == 404)
            #expect(try missing.error()["type"] as? String == "not_found_error")
            let wrongMethod = try server.request("GET", completionPath)
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("allow") == "POST, OPTIONS")
            #expect(try server.request("POST", "/v1/models").status == 405)
            let models = try server.request("GET", "/v1/models").json()
            #expect(models["object"] as? String == "list")
            let model = try #require((models["data"] as? [[String: Any]])?.first)
            #expect(model["id"] as? String == TestServer.modelId)
            #expect(model["object"] as? String == "model")
            #expect(model["max_model_len"] as? Int == TinyServedModel.contextLength)
            #expect(try server.request("GET", "/v1/models/\(TestServer.modelId)").json()["id"] as? String == TestServer.modelId)
            #expect(try server.request("GET", "/v1/models/other").status == 404)
            #expect(try server.request("GET", "/live").json()["status"] as? String == "ok")
            #expect(try server.request("GET", "/health").json()["status"] as? String == "ok")
            #expect(try server.request("GET", "/ready").status == 200)
        }
    }

    @Test func tokenizeRoundTrip() throws {
        try TestServer.with { server in
            let tokenized = try server.post("/tokenize", #"{"prompt":"the thin cat"}"#).json()
            let tokens = try #require(tokenized["tokens"] as? [Int])
            #expect(tokenized["count"] as? Int == tokens.count)
            #expect(tokenized["max_model_len"] as? Int == TinyServedModel.contextLength)
            let text = try server.post("/detokenize", #"{"tokens":\#(tokens)}"#).json()
            #expect(text["prompt"] as? String == "the thin cat")
        }
    }

    @Test func readinessGatesProbesAndGeneration() throws {
        try TestServer.with(ready: false) { server in
            #expect(try server.request("GET", "/live").status == 200)
            #expect(try server.request("GET", "/health").status == 503)
            let notReady = try server.post(completionPath, greedyCompletion("x", maxTokens: 1))
            #expect(notReady.status == 503)
            #expect(try notReady.error()["code"] as? String == "not_ready")
            server.api.setReady(true)
            #expect(try server.request("GET", "/health").status == 200)
            #expect(try server.post(completionPath, greedyCompletion("x", maxTokens: 1)).status == 200)
            server.api.setReady(false)
            let draining = try server.request("GET", "/ready")
            #expect(draining.status == 503)
            #expect(try draining.error()["code"] as? String == "draining")
            #expect(try server.post(chatPath, greedyChat(maxTokens: 1)).status == 503)
        }
    }

    @Test func apiKeys() throws {
        let key = "sk-test-0123456789"
        try TestServer.with(apiKeys: ["other-key", key]) { server in
            let missing = try server.post(completionPath, greedyCompletion("x", maxTokens: 1))
            #expect(missing.status == 401)
            #expect(try missing.error()["code"] as? String == "missing_api_key")
            let wrong = try server.post(completionPath, greedyCompletion("x", maxTokens: 1),
                                        headers: [("authorization", "Bearer sk-test-0123456788")])
            #expect(wrong.status == 401)
            #expect(try wrong.error()["code"] as? String == "invalid_api_key")
            #expect(try server.post(completionPath, greedyCompletion("x", maxTokens: 1),
                                    headers: [("authorization", "Bearer " + key)]).status == 200)
            #expect(try server.post(completionPath, greedyCompletion("x", maxTokens: 1),
                                    headers: [("x-api-key", key)]).status == 200)
            #expect(try server.request("GET", "/v1/models").status == 401)
            for open in ["/live", "/health", "/ready", "/metrics"] {
                #expect(try server.request("GET", open).status == 200, "\(open)")
            }
            #expect(!server.log.all.isEmpty)
            #expect(server.log.all.allSatisfy { !$0.contains(key) && !$0.contains("sk-test-0123456788") })
        }
    }

    @Test func requestIdsAreEchoedAndLogged() throws {
        try TestServer.with { server in
            let echoed = try server.request("GET", "/v1/models", headers: [("x-request-id", "client-id-42")])
            #expect(echoed.header("x-request-id") == "client-id-42")
            let replaced = try server.request("GET", "/v1/models", headers: [("x-request-id", "has spaces")])
            let generated = try #require(replaced.header("x-request-id"))
            #expect(generated.count == 32 && generated.allSatisfy(\.isHexDigit))
            let error = try server.request("GET", "/nowhere", headers: [("x-request-id", "lost-1")])
            #expect(error.status == 404)
            #expect(error.header("x-request-id") == "lost-1")
            let streamed = try server.post(completionPath, greedyCompletion("x", maxTokens: 2, extra: #","stream":true"#),
                                           headers: [("x-request-id", "stream-7")])
            #expect(streamed.header("x-request-id") == "stream-7")
            let lines = server.log.all
            #expect(lines.contains { $0.contains("client-id-42") && $0.contains("/v1/models") && $0.contains("200") })
            #expect(lines.contains { $0.contains("lost-1") && $0.contains("404") })
            #expect(lines.contains { $0.contains("stream-7") && $0.contains("completion_tokens") })
        }
    }

    @Test func debugLinesTellSamplingAndTiming() throws {
        try TestServer.with { server in
            let body = #"{"prompt":"x","max_tokens":3,"temperature":0.5,"seed":7,"ignore_eos":true}"#
            #expect(try server.post(completionPath, body, headers: [("x-request-id", "debug-9")]).status == 200)
            let lines = server.log.all.filter { $0.contains("request_id=debug-9") }
            let submitted = try #require(lines.first { $0.contains("DEBUG generation submitted") })
            for field in ["max_tokens=3", "temperature=0.5", "seed=7", "prompt=\"1 bytes\""] {
                #expect(submitted.contains(field), "\(field) in \(submitted)")
            }
            let finished = try #require(lines.first { $0.contains("DEBUG generation finished") })
            for field in ["finish_reason=length", "completion_tokens=3", "ttft_ms=", "queue_ms="] {
                #expect(finished.contains(field), "\(field) in \(finished)")
            }
        }
    }

    @Test func cors() throws {
        try TestServer.with(corsOrigins: ["http://app.example"]) { server in
            let preflight = try server.request("OPTIONS", chatPath, headers: [
                ("origin", "http://app.example"), ("access-control-request-method", "POST"),
            ])
            #expect(preflight.status == 204)
            #expect(preflight.header("access-control-allow-origin") == "http://app.example")
            #expect(preflight.header("access-control-allow-methods")?.contains("POST") == true)
            #expect(preflight.header("access-control-allow-headers")?.contains("authorization") == true)
            let allowed = try server.request("GET", "/v1/models", headers: [("origin", "http://app.example")])
            #expect(allowed.header("access-control-allow-origin") == "http://app.example")
            let other = try server.request("GET", "/v1/models", headers: [("origin", "http://evil.example")])
            #expect(other.status == 200)
            #expect(other.header("access-control-allow-origin") == nil)
        }
    }

    @Test func metricsCountRequestsAndTokens() throws {
        try TestServer.with { server in
            for _ in 0..<2 { _ = try server.post(completionPath, greedyCompletion("the cat", maxTokens: 3)) }
            _ = try server.post(chatPath, greedyChat(maxTokens: 2, extra: #","stream":true"#))
            _ = try server.post(completionPath, #"{"prompt":"x","temperature":9}"#)
            let samples = try server.waitForMetrics { $0[#"shiftadd_generations_finished_total{reason="length"}"#] == 3 }
            #expect(samples[#"shiftadd_requests_total{route="/v1/completions",status="200"}"#] == 2)
            #expect(samples[#"shiftadd_requests_total{route="/v1/completions",status="400"}"#] == 1)
            #expect(samples[#"shiftadd_requests_total{route="/v1/chat/completions",status="200"}"#] == 1)
            #expect(samples["shiftadd_generation_tokens_total"] == 8)
            #expect(samples["shiftadd_time_to_first_token_seconds_count"] == 3)
            #expect(samples["shiftadd_e2e_request_latency_seconds_count"] == 3)
            #expect(samples["shiftadd_queue_time_seconds_count"] == 3)
            #expect(samples["shiftadd_inter_token_latency_seconds_count"] == 5)
            #expect(samples[#"shiftadd_request_generation_tokens_bucket{le="4"}"#] == 3)
            #expect(samples["shiftadd_running"] == 0)
            #expect(samples["shiftadd_queue_length"] == 0)
            #expect((samples["shiftadd_kv_blocks_total"] ?? 0) > 0)
            #expect((samples["shiftadd_http_connections_accepted_total"] ?? 0) >= 5)
        }
    }

    /// The scheduler shutting down mid-stream ends the stream with an error event, then [DONE]. The
    /// shutdown is asked from inside the second forward pass, after the first token has streamed.
    @Test func errorAfterStreamingBeganIsTheLastEvent() throws {
        let target = Mutex<Scheduler?>(nil)
        let model = TinyServedModel.make { call in
            if call == 1 { target.withLock { $0 }?.shutdown() }
        }
        try TestServer.with(model: model) { server in
            target.withLock { $0 = server.scheduler }
            let body = #"{"prompt":"the","temperature":0,"ignore_eos":true,"max_tokens":400,"stream":true}"#
            let response = try server.post(completionPath, body)
            #expect(response.status == 200)
            let events = response.events
            #expect(events.last == "[DONE]")
            // One token from each of the two forward passes that ran.
            #expect(events.count == 4)
            let last = try #require(try JSONSerialization.jsonObject(with: Data(events.dropLast().last!.utf8)) as? [String: Any])
            let error = try #require(last["error"] as? [String: Any])
            #expect(error["code"] as? String == "shutting_down")
            #expect(error["type"] as? String == "service_unavailable_error")
        }
    }

    @Test func oversizedBodyIsRefusedAndTheServerKeepsServing() throws {
        try TestServer.with { server in
            let padding = String(repeating: "a", count: 5 * 1024 * 1024)
            let response = try server.post(completionPath, #"{"prompt":"\#(padding)"}"#)
            #expect(response.status == 413)
            #expect(try response.error()["type"] as? String == "invalid_request_error")
            #expect(try server.post(completionPath, greedyCompletion("x", maxTokens: 1)).status == 200)
        }
    }

    /// A client that closes its connection mid-stream cancels its generation; metrics and logs say
    /// so. The engine is held in its second forward pass until the server has seen the client go,
    /// so the generation cannot end any other way, on any machine.
    @Test func disconnectCancelsTheGeneration() throws {
        let hold = ForwardHold(call: 1)
        try TestServer.with(model: TinyServedModel.make(onForward: hold.onForward)) { server in
            defer { hold.release() }
            let fd = try RawHTTP.connect(port: server.port)
            let body = Array(#"{"prompt":"the","temperature":0,"ignore_eos":true,"max_tokens":400,"stream":true}"#.utf8)
            try RawHTTP.write(fd, RawHTTP.requestBytes(method: "POST", path: completionPath,
                                                       headers: [("x-request-id", "walks-away")], body: body))
            var received: [UInt8] = []
            while !String(decoding: received, as: UTF8.self).contains("\"text\"") {
                let chunk = try RawHTTP.readSome(fd)
                try #require(!chunk.isEmpty)
                received += chunk
            }
            hold.waitUntilHeld()
            close(fd)
            _ = try server.waitForMetrics { $0["shiftadd_client_disconnects_total"] == 1 }
            hold.release()
            let samples = try server.waitForMetrics { $0[#"shiftadd_generations_finished_total{reason="cancelled"}"#] == 1 }
            #expect(samples[#"shiftadd_generations_finished_total{reason="cancelled"}"#] == 1)
            #expect(samples["shiftadd_client_disconnects_total"] == 1)
            #expect(samples["shiftadd_generation_tokens_total"] == 2)
            #expect(server.api.activeGenerations == 0)
            #expect(server.log.all.contains { $0.contains("walks-away") && $0.contains("cancelled") })
            #expect(server.log.all.contains { $0.contains("walks-away") && $0.contains("499") })
        }
    }
}
