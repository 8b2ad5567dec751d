import Foundation
import ShiftAddBundle
import ShiftAddCommandLine
import ShiftAddConvert
import ShiftAddEngine
import ShiftAddModel

/// `shiftadd-convert INPUT OUTPUT [options]`: checkpoint → ShiftAdd weight bundle.
let spec = CommandSpec(
    name: "shiftadd-convert",
    summary: "Reparameterize a checkpoint (GGUF, safetensors, llama2.c) into a ShiftAdd weight bundle: binary weight planes with power-of-two scales",
    usage: "shiftadd-convert INPUT OUTPUT [--bits 1|2|3|4 | --avg-bits A | --max-bytes N] [options]",
    options: [
        .init("bits", value: "B", help: "Bit planes per weight for every projection: 1 to 4 (default 3 unless --avg-bits or --max-bytes)"),
        .init("avg-bits", value: "A", help: "Stored bits per projection weight (planes and scales), 1.2 to 5; widths of 1-4 planes per projection chosen by measured effect"),
        .init("max-bytes", value: "N", help: "Largest file size in bytes; widths of 1-4 planes per projection chosen by measured effect"),
        .init("effects", value: "FILE", help: "With --avg-bits/--max-bytes: reuse the effects measured into FILE by an earlier conversion of the same model and options, or measure and write them there"),
        .init("group-size", value: "G", default: "64", help: "Inputs sharing one set of scales (32-256; a row's last group may be shorter)"),
        .init("apot-terms", value: "K", default: "3", help: "Signed powers of two per scale (1-4)"),
        .init("rotate", value: "KIND", default: "hadamard", help: "Input rotation: hadamard (randomized block Walsh-Hadamard, adds only) or none"),
        .init("calibration", value: "SOURCE", default: "self", help: "self (sequences sampled from the model) or a UTF-8 text file"),
        .init("self-chat", value: "F", default: "0", help: "Share of self-generated sequences opening a user turn in the chat format"),
        .init("self-temperatures", value: "LIST", default: "1", help: "Sampling temperatures of self-generated sequences, taken in turn (e.g. 0.8,1,1.2)"),
        .init("samples", value: "N", help: "Calibration sequences (default 128; 64 with --preset fast)"),
        .init("seq-len", value: "N", help: "Tokens per calibration sequence (default 512; 256 with --preset fast)"),
        .init("seed", value: "S", default: "0", help: "Seed for calibration sampling and rotation signs"),
        .init("refinement-rounds", value: "N", help: "Alternating least-squares rounds per group fit (default 20; 6 with --preset fast)"),
        .init("refit-passes", value: "N", default: "0", help: "Passes refitting the scales against the output error after binarization"),
        .init("objective", value: "KIND", default: "output", help: "output (error feedback on the calibration inputs) or weight (weight error only; for comparison)"),
        .init("fits", value: "SET", default: "all", help: "Scale fits tried per row-group: all, bcq (no offset), offset, or grid (min-max grid: round to nearest)"),
        .init("distil-steps", value: "N", help: "Steps of end-to-end scale distillation after conversion (default 64; 32 with --preset fast; 0 turns it off)"),
        .init("distil-sequences", value: "N", help: "Calibration sequences per distillation step (default 1; 2 with --preset fast)"),
        .init("distil-rate", value: "R", default: "0.001", help: "Peak distillation step, relative to each group's largest scale"),
        .init("threads", value: "N", default: "\(max(1, ProcessInfo.processInfo.activeProcessorCount))", help: "Compute threads"),
        .init("preset", value: "NAME", default: "default", help: "default, or fast (fewer samples and refinement rounds, for tests and first runs)"),
        .init("head-bits", value: "H", default: "8", help: "Output head: 8 (int8 rows), or 2, 3 or 4 bit planes calibrated like a projection"),
        .init("tokenizer", value: "PATH", help: "Tokenizer file for llama2.c checkpoints"),
    ])

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("shiftadd-convert: \(message)\n".utf8))
    exit(code)
}

func options(from a: ParsedArguments) throws -> ConversionOptions {
    var o: ConversionOptions
    switch a.string("preset") ?? "default" {
    case "default": o = ConversionOptions()
    case "fast": o = .fast
    case let other: throw ArgumentError.invalidValue(option: "preset", value: other, reason: "expected default or fast")
    }
    let widthOptions = ["bits", "avg-bits", "max-bytes"].filter { a.string($0) != nil }
    if widthOptions.count > 1 {
        throw ArgumentError.invalidValue(option: widthOptions[1], value: a.string(widthOptions[1])!,
                                         reason: "give one of --bits, --avg-bits and --max-bytes")
    }
    if let b = try a.int("bits", range: ConversionOptions.allocationWidths) { o.bits = .uniform(b) }
    if let avg = try a.double("avg-bits", range: 1.2...5) { o.bits = .average(avg) }
    if let n = try a.int("max-bytes", range: 1...Int(Int32.max) * 64) { o.bits = .maxBytes(n) }
    o.effectsFile = a.string("effects")
    o.groupSize = try a.int("group-size", range: 32...256)!
    o.apotTerms = try a.int("apot-terms", range: 1...4)!
    switch a.string("rotate")! {
    case "hadamard": o.rotate = true
    case "none": o.rotate = false
    case let other: throw ArgumentError.invalidValue(option: "rotate", value: other, reason: "expected hadamard or none")
    }
    let calibration = a.string("calibration")!
    o.calibration = calibration == "self" ? .selfGenerated : .text(path: calibration)
    o.selfSampling.chatShare = try a.double("self-chat", range: 0...1)!
    let temperatures = a.string("self-temperatures")!.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
    guard !temperatures.isEmpty, temperatures.allSatisfy({ $0.map { $0 > 0 && $0 <= 4 } ?? false }) else {
        throw ArgumentError.invalidValue(option: "self-temperatures", value: a.string("self-temperatures")!,
                                         reason: "expected temperatures in (0, 4] separated by commas")
    }
    o.selfSampling.temperatures = temperatures.map { $0! }
    if let n = try a.int("samples", range: 1...100_000) { o.samples = n }
    if let n = try a.int("seq-len", range: 2...1_000_000) { o.sequenceLength = n }
    o.seed = UInt64(try a.int("seed", range: 0...Int.max)!)
    if let n = try a.int("refinement-rounds", range: 0...1000) { o.refinementRounds = n }
    o.scaleRefitPasses = try a.int("refit-passes", range: 0...10)!
    if let n = try a.int("distil-steps", range: 0...100_000) { o.distillSteps = n }
    if let n = try a.int("distil-sequences", range: 1...1024) { o.distillSequencesPerStep = n }
    o.distillRate = Float(try a.double("distil-rate", range: 0...1)!)
    let objective = a.string("objective")!
    guard let parsed = ConversionOptions.Objective(rawValue: objective) else {
        throw ArgumentError.invalidValue(option: "objective", value: objective, reason: "expected output or weight")
    }
    o.objective = parsed
    let fits = a.string("fits")!
    guard let kinds = GroupFitKinds.named[fits] else {
        throw ArgumentError.invalidValue(option: "fits", value: fits, reason: "expected all, bcq, offset or grid")
    }
    o.fitKinds = kinds
    o.threads = try a.int("threads", range: 1...256)!
    let headBits = try a.int("head-bits", range: 2...8)!
    guard ConversionOptions.headWidths.contains(headBits) else {
        throw ArgumentError.invalidValue(option: "head-bits", value: "\(headBits)", reason: "expected 2, 3, 4 or 8")
    }
    o.headBits = headBits
    return o
}

nonisolated(unsafe) var partialPath: String?

do {
    let a = try ArgumentParser.parse(Array(CommandLine.arguments.dropFirst()), spec: spec)
    guard a.positionals.count == 2 else { throw ArgumentError.unexpectedArgument(a.positionals.count < 2 ? "(missing INPUT or OUTPUT)" : a.positionals[2]) }
    let (input, output) = (a.positionals[0], a.positionals[1])
    let o = try options(from: a)
    // A bad SHIFTADD_KERNELS stops the command here, before any kernel runs.
    _ = try KernelPath.current()
    BLASThreads.configure(o.threads)
    // Ctrl-C or a termination signal removes the staged output, so no partial bundle remains.
    partialPath = BundleWriter.temporaryPath(for: output)
    for sig in [SIGINT, SIGTERM] {
        signal(sig) { s in
            if let p = partialPath { unlink(p) }
            _exit(128 + s)
        }
    }
    let start = Date()
    let source = try ModelLoader.load(path: input, tokenizerPath: a.string("tokenizer"))
    let converter = try Converter(source: source, options: o)
    var bar: ProgressBar?
    let writer = try converter.convert { p in
        if bar?.label != p.stage { bar = ProgressBar(label: p.stage, total: p.total) }
        bar!.update(p.done, detail: p.detail)
    }
    try writer.write(to: output)
    if let d = converter.distillation {
        print(String(format: "distillation: mean KL on the first batch %.4f before, %.4f trained, %.4f with rounded scales",
                     d.before, d.trained, d.rounded)
              + (d.kept ? "" : "; no gain, so the layer-wise scales are kept"))
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
    print(String(format: "wrote %@ (%d bytes) in %.0f s, peak RSS %.0f MB", output, size, Date().timeIntervalSince(start),
                 Double(peakResidentBytes()) / 1e6))
} catch let ArgumentError.helpRequested(text) {
    print(text)
    exit(0)
} catch let error as ArgumentError {
    fail("\(error)", code: 2)
} catch {
    fail("\(error)")
}
