import ShiftAddScheduler
import ShiftAddServer
import Testing

private let idleScheduler = SchedulerStats(queued: 2, running: 3, kvBlocksTotal: 100, kvBlocksUsed: 40, kvBlocksCached: 10,
                                           kvBlocksFree: 50, preemptions: 0, rejections: 0, steps: 0)

private func summary(_ reason: FinishReason, prompt: Int, completion: Int, total: Double) -> GenerationSummary {
    GenerationSummary(reason: reason, error: nil, promptTokens: prompt, cachedPromptTokens: 1, completionTokens: completion,
                      queueSeconds: 0.01, timeToFirstTokenSeconds: 0.02, totalSeconds: total)
}

/// Sample lines as name{labels} → value, without the `model_name="m"` label every sample carries.
private func samples(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let space = line.lastIndex(of: " ")!
        let key = String(line[..<space]).replacingOccurrences(of: #"{model_name="m"}"#, with: "")
            .replacingOccurrences(of: #"{model_name="m","#, with: "{")
        out[key] = String(line[line.index(after: space)...])
    }
    return out
}

@Suite struct MetricsTests {
    @Test func countersGaugesAndHistograms() {
        let metrics = Metrics()
        metrics.record(.admitted(queueSeconds: 0.003))
        metrics.record(.firstToken(seconds: 0.2))
        metrics.record(.interToken(seconds: 0.25))
        metrics.record(.interToken(seconds: 0.5))
        metrics.record(.finished(summary(.length, prompt: 10, completion: 3, total: 0.3)))
        metrics.record(.finished(summary(.cancelled, prompt: 5, completion: 1, total: 7)))
        metrics.record(.rejected(.overloaded(queued: 4, limit: 4)))
        metrics.record(.preempted)
        metrics.record(.step(tokens: 12, sequences: 2, seconds: 0.01))
        metrics.recordRequest(route: "/v1/completions", status: 200, seconds: 0.3)
        metrics.recordRequest(route: "/v1/completions", status: 200, seconds: 0.4)
        metrics.recordRequest(route: "/v1/completions", status: 400, seconds: 0.001)
        metrics.recordDisconnect()
        let s = samples(metrics.render(scheduler: idleScheduler, http: nil, modelName: "m"))
        #expect(s[#"shiftadd_requests_total{route="/v1/completions",status="200"}"#] == "2")
        #expect(s[#"shiftadd_requests_total{route="/v1/completions",status="400"}"#] == "1")
        #expect(s[#"shiftadd_generations_finished_total{reason="length"}"#] == "1")
        #expect(s[#"shiftadd_generations_finished_total{reason="cancelled"}"#] == "1")
        #expect(s[#"shiftadd_rejections_total{reason="overloaded"}"#] == "1")
        #expect(s["shiftadd_prompt_tokens_total"] == "15")
        #expect(s["shiftadd_cached_prompt_tokens_total"] == "2")
        #expect(s["shiftadd_generation_tokens_total"] == "4")
        #expect(s["shiftadd_preemptions_total"] == "1")
        #expect(s["shiftadd_client_disconnects_total"] == "1")
        #expect(s["shiftadd_engine_steps_total"] == "1")
        #expect(s["shiftadd_engine_step_tokens_total"] == "12")
        #expect(s["shiftadd_queue_length"] == "2")
        #expect(s["shiftadd_running"] == "3")
        #expect(s["shiftadd_kv_blocks_total"] == "100")
        #expect(s["shiftadd_kv_blocks_used"] == "40")
        #expect(s["shiftadd_kv_blocks_cached"] == "10")
        #expect(s["shiftadd_kv_blocks_free"] == "50")
        #expect(s["shiftadd_kv_cache_usage_ratio"] == "0.4")
        #expect(s["vllm:num_requests_waiting"] == "2")
        #expect(s["vllm:num_requests_running"] == "3")
        #expect(s["vllm:kv_cache_usage_perc"] == "0.4")
        #expect(s["shiftadd_kv_window_slots_total"] == "0")
        // Buckets are cumulative and end with +Inf = count.
        #expect(s[#"shiftadd_inter_token_latency_seconds_bucket{le="0.15"}"#] == "0")
        #expect(s[#"shiftadd_inter_token_latency_seconds_bucket{le="0.25"}"#] == "1")
        #expect(s[#"shiftadd_inter_token_latency_seconds_bucket{le="0.5"}"#] == "2")
        #expect(s[#"shiftadd_inter_token_latency_seconds_bucket{le="+Inf"}"#] == "2")
        #expect(s["shiftadd_inter_token_latency_seconds_count"] == "2")
        #expect(s["shiftadd_inter_token_latency_seconds_sum"] == "0.75")
        #expect(s[#"shiftadd_e2e_request_latency_seconds_bucket{le="5"}"#] == "1")
        #expect(s[#"shiftadd_e2e_request_latency_seconds_bucket{le="10"}"#] == "2")
        #expect(s["shiftadd_time_to_first_token_seconds_count"] == "1")
        #expect(s["shiftadd_queue_time_seconds_count"] == "1")
        #expect(s[#"shiftadd_request_prompt_tokens_bucket{le="16"}"#] == "2")
        #expect(s[#"shiftadd_request_generation_tokens_bucket{le="1"}"#] == "1")
        #expect(s[#"shiftadd_request_duration_seconds_count"#] == "3")
        #expect(s["shiftadd_http_connections_open"] == nil)
    }

    /// Every family has HELP and TYPE before its samples, names carry the prefix, and every sample
    /// line is `name{labels} value`.
    @Test func expositionFormat() throws {
        let metrics = Metrics()
        metrics.recordRequest(route: "/v1/chat/completions", status: 200, seconds: 1)
        let text = metrics.render(scheduler: idleScheduler, http: nil, modelName: "m")
        #expect(text.hasSuffix("\n"))
        var declared: [String: String] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            if line.hasPrefix("# HELP ") {
                #expect(parts.count == 4)
                #expect(declared[parts[2]] == nil)
                declared[parts[2]] = ""
            } else if line.hasPrefix("# TYPE ") {
                #expect(["counter", "gauge", "histogram"].contains(parts[3]))
                declared[parts[2]] = parts[3]
            } else {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(name.hasPrefix("shiftadd_") || name.hasPrefix("vllm:"))
                #expect(line.dropFirst(name.count).hasPrefix(#"{model_name="m""#), "\(line)")
                let family = ["_bucket", "_sum", "_count"].reduce(name) { n, suffix in
                    declared[n] == nil && n.hasSuffix(suffix) ? String(n.dropLast(suffix.count)) : n
                }
                #expect(declared[family] != nil, "sample \(name) before its TYPE line")
                if declared[family] == "counter" { #expect(family.hasSuffix("_total")) }
                #expect(Double(try #require(parts.last)) != nil || parts.last == "+Inf")
            }
        }
        #expect(declared["shiftadd_time_to_first_token_seconds"] == "histogram")
        #expect(declared["shiftadd_inter_token_latency_seconds"] == "histogram")
        #expect(declared["shiftadd_e2e_request_latency_seconds"] == "histogram")
        #expect(declared["shiftadd_queue_time_seconds"] == "histogram")
        #expect(declared["shiftadd_request_prompt_tokens"] == "histogram")
        #expect(declared["shiftadd_request_generation_tokens"] == "histogram")
        #expect(declared["shiftadd_queue_length"] == "gauge")
        #expect(declared["shiftadd_requests_total"] == "counter")
    }

    /// With sliding-window layers, the fuller of the two pools is the cache's usage.
    @Test func windowSlotsCountInTheUsage() {
        let stats = SchedulerStats(queued: 0, running: 4, kvBlocksTotal: 100, kvBlocksUsed: 40, kvBlocksCached: 10, kvBlocksFree: 50,
                                   kvWindowSlotsTotal: 20, kvWindowSlotsUsed: 15, kvWindowSlotsFree: 3,
                                   preemptions: 0, rejections: 0, steps: 1)
        let s = samples(Metrics().render(scheduler: stats, http: nil, modelName: "m"))
        #expect(s["shiftadd_kv_window_slots_total"] == "20")
        #expect(s["shiftadd_kv_window_slots_used"] == "15")
        #expect(s["shiftadd_kv_window_slots_free"] == "3")
        #expect(s["shiftadd_kv_cache_usage_ratio"] == "0.75")
        #expect(s["vllm:kv_cache_usage_perc"] == "0.75")
    }
}
