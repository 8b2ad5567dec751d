import Foundation
import ShiftAddEngine

/// Median and range of one figure over the timed runs.
struct Spread {
    let median: Double
    let min: Double
    let max: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        min = sorted[0]
        max = sorted[sorted.count - 1]
    }

    init?(_ object: Any?) {
        guard let d = object as? [String: Double], let median = d["median"], let min = d["min"], let max = d["max"] else { return nil }
        self.median = median
        self.min = min
        self.max = max
    }

    var json: [String: Double] { ["median": median, "min": min, "max": max] }
}

/// The benchmark's results: every engine's raw per-run figures, their medians and ranges, and
/// the kernels' ratios to the fp32 reference, as JSON and as a table.
struct BenchReport {
    let machine: [String: Any]
    /// The instruction set every engine's kernels ran on (each child inherits SHIFTADD_KERNELS).
    let kernels: KernelPath
    let threads: Int
    let repeats: Int
    let batches: [Int]
    /// Raw figures per engine (see `BenchProtocol.run`), each with its "summary".
    let engines: [[String: Any]]
    let loadAverage: [String: Double]

    static let parts = ["tables", "lookups", "attention", "head", "other"]

    /// Medians and ranges of an engine's raw per-run lists, keyed as in the raw figures.
    static func summarize(_ raw: [String: Any]) -> [String: Any] {
        var summary: [String: Any] = [:]
        for key in ["decode_tokens_per_s", "prefill_tokens_per_s", "kernel_gb_per_s"] {
            if let values = raw[key] as? [Double], let s = Spread(values) { summary[key] = s.json }
        }
        for key in ["batched_tokens_per_s", "decode_time_shares"] {
            if let lists = raw[key] as? [String: [Double]] {
                summary[key] = lists.compactMapValues { Spread($0)?.json }
            }
        }
        if let perBatch = raw["batched_time_shares"] as? [String: [String: [Double]]] {
            summary["batched_time_shares"] = perBatch.mapValues { $0.compactMapValues { Spread($0)?.json } }
        }
        return summary
    }

    private var reference: [String: Any]? { engines.first { $0["engine"] as? String == "fp32" } }

    /// The spread of figure `key` (or `key`/`sub`, or `key`/`sub`/`part` for nested ones) of an engine.
    private func spread(_ engine: [String: Any], _ key: String, _ sub: String? = nil, _ part: String? = nil) -> Spread? {
        let summary = engine["summary"] as? [String: Any]
        guard let sub else { return Spread(summary?[key]) }
        let nested = (summary?[key] as? [String: Any])?[sub]
        guard let part else { return Spread(nested) }
        return Spread((nested as? [String: Any])?[part])
    }

    /// Kernel engine median ÷ reference median.
    private func ratio(_ engine: [String: Any], _ key: String, _ sub: String? = nil) -> Double? {
        guard let reference, let a = spread(engine, key, sub), let b = spread(reference, key, sub), b.median > 0 else { return nil }
        return a.median / b.median
    }

    private func sizeRatio(_ engine: [String: Any]) -> Double? {
        guard let reference, let a = engine["file_bytes"] as? Int, let b = reference["file_bytes"] as? Int, b > 0 else { return nil }
        return Double(a) / Double(b)
    }

    static var protocolText: [String] {
        let p = BenchProtocol.self
        return [
            "batch-1 decode: greedy, \(p.decodeTokens) new tokens after a \(p.promptTokens)-token prompt, end of sequence ignored",
            "batched decode: N sequences (different \(p.promptTokens)-token prompts) advance together, one forward pass per step, "
                + "\(p.decodeTokens) steps (the same context lengths as batch 1); aggregate tokens/s",
            "prefill: one forward pass over a \(p.prefillTokens)-token prompt into an empty cache",
            "prompts: fixed pseudo-random token ids (seed 0); every engine reads the same ids",
            "warm-up: one \(p.warmupTokens)-token decode and one prefill before timing; each engine runs in a process of its own",
            "kernel GB/s: native projection bytes read per decode step / time in table lookups",
            "bundle speed depends only on shapes and bit widths, not on the conversion preset",
        ]
    }

    var json: [String: Any] {
        var ratios: [String: Any] = [:]
        for e in engines where e["engine"] as? String != "fp32" {
            var r: [String: Any] = [:]
            r["decode_tokens_per_s"] = ratio(e, "decode_tokens_per_s")
            r["prefill_tokens_per_s"] = ratio(e, "prefill_tokens_per_s")
            r["batched_tokens_per_s"] = Dictionary(uniqueKeysWithValues: batches.compactMap { b in ratio(e, "batched_tokens_per_s", "\(b)").map { ("\(b)", $0) } })
            r["file_bytes"] = sizeRatio(e)
            ratios[e["engine"] as? String ?? "?"] = r
        }
        return ["machine": machine, "kernels": ["path": kernels.name, "cpu_best": kernels.hardware, "forced": kernels.forced],
                "threads": threads, "repeat": repeats, "batches": batches, "engines": engines,
                "ratios_to_fp32": ratios, "load_average": loadAverage, "protocol": Self.protocolText,
                "sizes": ["prompt_tokens": BenchProtocol.promptTokens, "decode_tokens": BenchProtocol.decodeTokens,
                          "prefill_tokens": BenchProtocol.prefillTokens]]
    }

    var table: String {
        var lines: [String] = []
        let m = machine
        let extensions = (m["vector_extensions"] as? [String] ?? []).joined(separator: " ")
        lines.append("ShiftAdd benchmark: \(threads) threads, median of \(repeats) runs (min-max)")
        lines.append("machine: \(m["cpu"] ?? "") (\(m["vendor"] ?? "") family \(m["family"] ?? "") model \(m["model"] ?? "")), "
                     + "\(m["cores"] ?? "") cores, L3 \(m["l3_cache"] ?? ""), \(extensions)")
        lines.append("kernels: \(kernels)")
        lines.append(String(format: "load average (1 min): %.2f before, %.2f after", loadAverage["before"] ?? 0, loadAverage["after"] ?? 0))
        lines += Self.protocolText.map { "  " + $0 }
        for e in engines {
            var line = "\(e["label"] ?? ""): \(e["path"] ?? "") (\(e["file_bytes"] ?? 0) bytes"
            if let isa = e["instruction_set"], let bytes = e["projection_bytes"] as? Int {
                line += ", \(isa) kernels over " + String(format: "%.1f MB of native projections", Double(bytes) / 1e6)
            }
            if let bits = e["effective_bits_per_weight"] as? Double { line += String(format: ", %.3f bits/weight with scales", bits) }
            if let options = e["converter_options"] as? [String: String] {
                line += ", converted with " + ["samples", "seq-len", "refinement-rounds"].compactMap { k in options[k].map { "\(k)=\($0)" } }.joined(separator: " ")
            }
            lines.append(line + String(format: "), loaded in %.1f s; other processes used %.1f%% of the CPU meanwhile",
                                       e["load_seconds"] as? Double ?? 0, 100 * (e["cpu_share_of_other_processes"] as? Double ?? 0)))
        }
        lines.append("")

        let labelWidth = 30
        let columnWidth = 24
        func row(_ label: String, _ cells: [String]) {
            lines.append(label.padding(toLength: labelWidth, withPad: " ", startingAt: 0)
                         + cells.map { $0.padding(toLength: columnWidth, withPad: " ", startingAt: 0) }.joined())
        }
        func number(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v) }
        func rate(_ s: Spread?) -> String { s.map { "\(number($0.median)) (\(number($0.min))-\(number($0.max)))" } ?? "-" }
        func share(_ s: Spread?) -> String { s.map { String(format: "%.1f%% (%.1f-%.1f)", 100 * $0.median, 100 * $0.min, 100 * $0.max) } ?? "-" }
        func times(_ r: Double?) -> String { r.map { String(format: "%.2f x", $0) } ?? "" }
        let hasReference = reference != nil
        func rateRows(_ label: String, _ key: String, _ sub: String? = nil) {
            row(label, engines.map { rate(spread($0, key, sub)) })
            if hasReference { row("  / fp32", engines.map { $0["engine"] as? String == "fp32" ? "" : times(ratio($0, key, sub)) }) }
        }

        row("", engines.map { $0["label"] as? String ?? "" })
        rateRows("decode, 1 sequence (tok/s)", "decode_tokens_per_s")
        for b in batches { rateRows("decode, \(b) sequences (tok/s)", "batched_tokens_per_s", "\(b)") }
        rateRows("prefill, \(BenchProtocol.prefillTokens) tokens (tok/s)", "prefill_tokens_per_s")
        row("kernel GB/s (lookups)", engines.map { rate(spread($0, "kernel_gb_per_s")) })
        for part in Self.parts {
            row("decode time: \(part)", engines.map { $0["engine"] as? String == "fp32" ? "-" : share(spread($0, "decode_time_shares", part)) })
        }
        for b in batches {
            for part in Self.parts {
                row("\(b)-sequence time: \(part)",
                    engines.map { $0["engine"] as? String == "fp32" ? "-" : share(spread($0, "batched_time_shares", "\(b)", part)) })
            }
        }
        row("peak RSS, 1 sequence (MB)", engines.map { String(format: "%.0f", Double($0["peak_rss_bytes"] as? Int ?? 0) / 1e6) })
        row("peak RSS, batched (MB)", engines.map { String(format: "%.0f", Double($0["peak_rss_batched_bytes"] as? Int ?? 0) / 1e6) })
        row("file size (MB)", engines.map { String(format: "%.1f", Double($0["file_bytes"] as? Int ?? 0) / 1e6) })
        if hasReference { row("  / GGUF", engines.map { $0["engine"] as? String == "fp32" ? "" : times(sizeRatio($0)) }) }
        return lines.joined(separator: "\n")
    }
}
