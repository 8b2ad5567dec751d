import Foundation
import ShiftAddBundle
import ShiftAddCommandLine
import ShiftAddEngine
import ShiftAddModel
import ShiftAddTokenizer

/// A model opened for `generate` and `eval`: a checkpoint on the fp32 reference engine, or a
/// bundle on the kernel engine (or, with `--engine fp32`, its dequantized weights on the
/// reference engine).
struct LoadedModel {
    let path: String
    let config: ModelConfig
    let spec: TokenizerSpec
    let tokenizer: Tokenizer
    let chatTemplate: String?
    let engineName: String
    let makeSession: (Int) -> any DecodingSession

    static let options: [CommandSpec.Option] = [
        .init("model", value: "PATH", help: "Bundle (.sabundle) or checkpoint (GGUF, safetensors directory, llama2.c .bin)"),
        .init("tokenizer", value: "PATH", help: "Tokenizer file for llama2.c checkpoints"),
        .init("engine", value: "NAME", default: "auto", help: "kernels (bundles), fp32 (reference), or auto: kernels for a bundle, fp32 for a checkpoint"),
        .init("threads", value: "N", default: "\(defaultThreads)", help: "Compute threads"),
    ]

    init(_ a: ParsedArguments) throws {
        path = try a.required("model")
        let threads = try a.int("threads", range: 1...256)!
        BLASThreads.configure(threads)
        let engine = a.string("engine") ?? "auto"
        guard ["auto", "kernels", "fp32"].contains(engine) else {
            throw ArgumentError.invalidValue(option: "engine", value: engine, reason: "expected auto, kernels or fp32")
        }
        if WeightBundle.isBundle(path: path) {
            let bundle = try WeightBundle(path: path)
            let m = bundle.manifest
            guard let spec = m.tokenizer else { throw CLIError("\(path): the bundle has no tokenizer") }
            config = m.config
            self.spec = spec
            chatTemplate = m.chatTemplate
            if engine == "fp32" {
                let model = try ReferenceModel(BundleWeights(bundle: bundle))
                engineName = "fp32 reference (dequantized bundle)"
                makeSession = { model.session(capacity: $0) }
            } else {
                let model = try QuantizedModel(bundle: bundle, threads: threads)
                model.releaseBundleCopies()
                engineName = "shift/LUT kernels"
                makeSession = { model.session(capacity: $0) }
            }
        } else {
            guard engine != "kernels" else { throw CLIError("\(path): the kernel engine runs bundles; convert with shiftadd-convert") }
            let model = try ModelLoader.load(path: path, tokenizerPath: a.string("tokenizer"))
            guard let spec = model.tokenizer else { throw CLIError("\(path): the checkpoint has no tokenizer") }
            config = model.config
            self.spec = spec
            chatTemplate = model.chatTemplate
            let reference = try ReferenceModel(model)
            engineName = "fp32 reference"
            makeSession = { reference.session(capacity: $0) }
        }
        tokenizer = try Tokenizer(spec: spec)
    }
}

let defaultThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)
