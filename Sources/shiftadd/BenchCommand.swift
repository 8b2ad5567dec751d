import Foundation
import ShiftAddBundle
import ShiftAddCommandLine
import ShiftAddEngine
import ShiftAddModel

/// `shiftadd bench`: decode, batched decode and prefill speed of the kernel engine at several
/// bit widths next to the fp32 reference, each engine measured in a child process of its own so
/// that peak memory figures do not mix.
enum BenchCommand: CLICommand {
    static let spec = CommandSpec(
        name: "bench", summary: "Measure decode and prefill speed of bundles and of the fp32 reference",
        usage: "shiftadd bench [--bundle2 PATH] [--bundle3 PATH] [--bundle4 PATH] [--reference GGUF] [options]",
        options: [
            .init("bundle2", value: "PATH", help: "2-bit bundle to run on the kernels"),
            .init("bundle3", value: "PATH", help: "3-bit bundle to run on the kernels"),
            .init("bundle4", value: "PATH", help: "4-bit bundle to run on the kernels"),
            .init("reference", value: "PATH", help: "Source checkpoint to run on the fp32 OpenBLAS reference"),
            .init("threads", value: "N", default: "2", help: "Compute threads of every engine"),
            .init("repeat", value: "N", default: "3", help: "Timed runs of each measurement; medians are reported with min-max"),
            .init("batches", value: "LIST", default: "4,16,64", help: "Sequence counts decoding together, comma-separated"),
            .init("json", help: "Print one JSON object instead of the table"),
            .init("json-out", value: "FILE", help: "Also write the JSON object to FILE"),
            .init("only", value: "ENGINE", help: "Measure one engine (2, 3, 4 or fp32) in this process and print its raw figures as JSON"),
        ])

    /// Engine keys in report order, with the option naming each one's file.
    static let engines: [(key: String, option: String)] = [("2", "bundle2"), ("3", "bundle3"), ("4", "bundle4"), ("fp32", "reference")]

    static func run(_ a: ParsedArguments) throws {
        let threads = try a.int("threads", range: 1...256)!
        let repeats = try a.int("repeat", range: 1...1000)!
        let batchList = a.string("batches")!
        let batches = try batchList.split(separator: ",").map { s -> Int in
            guard let b = Int(s.trimmingCharacters(in: .whitespaces)), (1...512).contains(b) else {
                throw ArgumentError.invalidValue(option: "batches", value: batchList, reason: "expected counts in 1...512")
            }
            return b
        }
        if let only = a.string("only") {
            guard let option = engines.first(where: { $0.key == only })?.option else {
                throw ArgumentError.invalidValue(option: "only", value: only, reason: "expected 2, 3, 4 or fp32")
            }
            let path = try a.required(option)
            try printJSON(try measure(engine: only, path: path, threads: threads, repeats: repeats, batches: batches))
            return
        }

        let selected = engines.compactMap { e in a.string(e.option).map { (key: e.key, option: e.option, path: $0) } }
        guard !selected.isEmpty else { throw CLIError("nothing to measure: give --bundle2, --bundle3, --bundle4 and/or --reference") }
        for e in selected where !FileManager.default.fileExists(atPath: e.path) { throw CLIError("\(e.path): no such file") }
        let loadBefore = loadAverage()
        var results: [[String: Any]] = []
        for e in selected {
            FileHandle.standardError.write(Data("bench: measuring \(e.key == "fp32" ? "fp32 reference" : "\(e.key)-bit bundle") (\(e.path))\n".utf8))
            var raw = try runChild(["bench", "--only", e.key, "--\(e.option)", e.path, "--threads", "\(threads)",
                                    "--repeat", "\(repeats)", "--batches", batches.map(String.init).joined(separator: ",")])
            raw["summary"] = BenchReport.summarize(raw)
            results.append(raw)
        }
        let report = BenchReport(machine: machine(), kernels: try KernelPath.current(), threads: threads, repeats: repeats,
                                 batches: batches, engines: results, loadAverage: ["before": loadBefore, "after": loadAverage()])
        let object = report.json
        if let out = a.string("json-out") {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            try data.write(to: URL(fileURLWithPath: out), options: .atomic)
        }
        if try a.flag("json") { try printJSON(object) } else { print(report.table) }
    }

    /// Loads one engine, runs the protocol and returns its raw figures.
    static func measure(engine: String, path: String, threads: Int, repeats: Int, batches: [Int]) throws -> [String: Any] {
        BLASThreads.configure(threads)
        var info: [String: Any] = ["engine": engine, "path": path, "threads": threads, "load_average_before": loadAverage()]
        let machineBefore = machineTicks(), ownBefore = ownTicks()
        info["file_bytes"] = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let start = Date()
        let figures: [String: Any]
        if engine == "fp32" {
            let model = try ReferenceModel(ModelLoader.load(path: path))
            info["load_seconds"] = Date().timeIntervalSince(start)
            info["label"] = "fp32 reference"
            let bench = BenchProtocol(repeats: repeats, batchSizes: batches, vocabSize: model.config.vocabSize)
            figures = bench.run(ReferenceTarget(model: model), projectionBytes: nil)
        } else {
            let bundle = try WeightBundle(path: path)
            let model = try QuantizedModel(bundle: bundle, threads: threads)
            model.releaseBundleCopies()
            info["load_seconds"] = Date().timeIntervalSince(start)
            let summary = BundleSummary(bundle.manifest, fileBytes: bundle.fileSize)
            let widths = summary.histogram.keys
            info["label"] = widths.count == 1 ? "\(widths.first!)-bit kernels" : String(format: "%.2f-bit kernels", summary.averagePlaneBits)
            info["average_plane_bits"] = summary.averagePlaneBits
            info["effective_bits_per_weight"] = summary.effectiveBits
            info["file_bytes"] = bundle.fileSize
            info["converter_options"] = bundle.manifest.provenance.options
            info["instruction_set"] = model.instructionSet
            info["projection_bytes"] = model.projectionBytes
            let bench = BenchProtocol(repeats: repeats, batchSizes: batches, vocabSize: model.config.vocabSize)
            figures = bench.run(KernelTarget(model: model), projectionBytes: model.projectionBytes)
        }
        info["load_average_after"] = loadAverage()
        let machineAfter = machineTicks()
        let total = machineAfter.total - machineBefore.total
        let others = (machineAfter.busy - machineBefore.busy) - (ownTicks() - ownBefore)
        info["cpu_share_of_other_processes"] = total > 0 ? Double(max(0, others)) / Double(total) : 0
        return info.merging(figures) { a, _ in a }
    }

    /// Runs this executable with `arguments` and parses the JSON object it prints.
    static func runChild(_ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("measuring with `shiftadd \(arguments.joined(separator: " "))` failed (status \(process.terminationStatus))")
        }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIError("`shiftadd \(arguments.joined(separator: " "))` printed no JSON object")
        }
        return object
    }

    /// The 1-minute load average, from /proc.
    static func loadAverage() -> Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return Double(text.split(separator: " ").first ?? "") ?? 0
    }

    /// Busy and total CPU time of the whole machine so far, in clock ticks, from /proc/stat.
    static func machineTicks() -> (busy: Int, total: Int) {
        let text = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let fields = (text.split(separator: "\n").first ?? "").split(separator: " ").dropFirst().compactMap { Int($0) }
        guard fields.count >= 5 else { return (0, 0) }
        let total = fields.prefix(8).reduce(0, +)
        return (total - fields[3] - fields[4], total)
    }

    /// CPU time of this process so far (user and system), in clock ticks, from /proc.
    static func ownTicks() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)) ?? ""
        // Fields after the parenthesized command name; utime and stime are the 14th and 15th.
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
        return user + system
    }

    /// What the figures were measured on.
    static func machine() -> [String: Any] {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String {
            guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
                  let colon = line.firstIndex(of: ":") else { return "" }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let l3 = (try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cache/index3/size", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let flags = Set(field("flags").split(separator: " ").map(String.init))
        let vector = ["avx2", "avx512f", "avx512bw", "avx512vl", "avx512vbmi", "avx512_vnni"].filter(flags.contains)
        return ["cpu": field("model name"), "vendor": field("vendor_id"), "family": field("cpu family"), "model": field("model"),
                "cores": ProcessInfo.processInfo.activeProcessorCount, "l3_cache": l3, "vector_extensions": vector,
                "memory_bytes": Int(ProcessInfo.processInfo.physicalMemory)]
    }
}
