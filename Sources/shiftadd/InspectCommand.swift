import Foundation
import ShiftAddBundle
import ShiftAddCommandLine
import ShiftAddModel

/// `shiftadd inspect`: what a bundle holds: per-layer bits, effective bits per weight, sizes.
/// With `--dequantize`, the tensors of a GGUF checkpoint as the readers decode them, so that the
/// decoding can be compared with other implementations (Scripts/check_gguf_dequant.py).
enum InspectCommand: CLICommand {
    static let spec = CommandSpec(
        name: "inspect", summary: "Summarize a weight bundle's manifest",
        usage: "shiftadd inspect BUNDLE [--layers] [--json]\n       shiftadd inspect CHECKPOINT.gguf --dequantize DIR",
        options: [
            .init("layers", help: "List every projection with its bits"),
            .init("json", help: "Print one JSON object"),
            .init("dequantize", value: "DIR",
                  help: "Decode every tensor of a GGUF file to DIR/NAME.f32: little-endian fp32, outermost dimension first"),
        ])

    static func run(_ a: ParsedArguments) throws {
        guard let path = a.positionals.first else { throw ArgumentError.missingRequired("BUNDLE") }
        if let directory = a.string("dequantize") {
            try dequantize(GGUFFile(path: path), into: directory)
            return
        }
        let bundle = try WeightBundle(path: path)
        let m = bundle.manifest
        let q = m.quantization
        let summary = BundleSummary(m, fileBytes: bundle.fileSize)
        if try a.flag("json") {
            var object: [String: Any] = [
                "file_bytes": bundle.fileSize, "format_version": m.formatVersion, "architecture": m.config.architecture,
                "group_size": q.groupSize, "apot_terms": q.apotTerms, "rotation": q.rotation.kind,
                "projection_weights": summary.weights, "projection_bytes": summary.projectionBytes,
                "effective_bits_per_weight": summary.effectiveBits, "average_plane_bits": summary.averagePlaneBits,
                "vocabulary_format": m.vocabulary.format, "head_bits": m.vocabulary.head?.bits ?? 8, "vocabulary_bytes": summary.vocabularyBytes,
                "other_bytes": summary.otherBytes, "parameters": summary.parameters, "file_bits_per_parameter": summary.fileBits,
                "bits_histogram": Dictionary(uniqueKeysWithValues: summary.histogram.map { ("\($0.key)", $0.value) }),
                "source_sha256": m.provenance.sourceSHA256, "options": m.provenance.options,
            ]
            if try a.flag("layers") {
                object["layers"] = q.layers.map { l -> [String: Any] in
                    var o: [String: Any] = ["name": l.name, "bits": l.bits]
                    if let e = l.effect { o["effect"] = e }
                    if let s = l.sensitivity { o["sensitivity"] = s }
                    return o
                }
            }
            try printJSON(object)
            return
        }
        print("bundle          \(path) (\(bundle.fileSize) bytes, format v\(m.formatVersion))")
        print("model           \(m.metadata["general.name"] ?? m.config.architecture): \(m.config.layerCount) layers, dim \(m.config.dim), vocab \(m.config.vocabSize)")
        print("source          \(m.provenance.sourceFile) sha256 \(m.provenance.sourceSHA256)")
        print("scales          group \(q.groupSize), \(q.apotTerms) power-of-two terms, rotation \(q.rotation.kind)" +
              (q.rotation.kind == "none" ? "" : " (block \(q.rotation.block), seed \(q.rotation.seed))"))
        print("projections     \(q.layers.count) layers, \(summary.weights) weights, \(summary.projectionBytes) bytes")
        print(String(format: "bits            %.3f plane bits/weight on average; %.3f effective bits/weight (planes + scales)",
                     summary.averagePlaneBits, summary.effectiveBits))
        print("vocabulary      \(summary.headFormat) (\(m.config.tiedEmbeddings ? "embedding tied to the head" : m.vocabulary.head == nil ? "embedding and head" : "int8 embedding rows and head"), \(summary.vocabularyBytes) bytes)")
        print(String(format: "file            %d bytes: projections %d, vocabulary %d, norms, biases, manifest and padding %d; %.3f bits per parameter",
                     bundle.fileSize, summary.projectionBytes, summary.vocabularyBytes, summary.otherBytes, summary.fileBits))
        print("bit widths      " + summary.histogram.sorted { $0.key < $1.key }.map { "\($0.key)-bit: \($0.value) layers" }.joined(separator: ", "))
        print("converter       \(m.provenance.converterVersion), " + m.provenance.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        if try a.flag("layers") {
            for l in q.layers {
                print("  \(l.name)  \(l.rows)x\(l.cols)  \(l.bits) bits" + (l.effect.map { String(format: "  effect %.4g", $0) } ?? "")
                      + (l.sensitivity.map { String(format: "  sensitivity %.4g", $0) } ?? ""))
            }
        }
    }

    private static func dequantize(_ gguf: GGUFFile, into directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var values = 0
        for tensor in gguf.tensors {
            // Names come from the file: one that is not a plain file name must not pick the output path.
            guard !tensor.name.isEmpty, !tensor.name.contains("/"), tensor.name != ".", tensor.name != ".." else {
                throw CLIError("\(gguf.file.path): tensor name '\(tensor.name)' is not usable as a file name")
            }
            let floats = tensor.floats()
            let data = floats.withUnsafeBytes { Data($0) } // fp32 in memory is little-endian on every supported CPU
            try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent(tensor.name + ".f32"))
            values += floats.count
        }
        print("\(gguf.tensors.count) tensors, \(values) values written to \(directory)")
    }
}

/// Size figures of a bundle. Effective bits: every stored bit of the projections' planes, scale
/// codes and base exponents, divided by their weight count; file bits: every byte of the file,
/// divided by the model's parameter count (projections, embedding, untied head, norms, biases).
struct BundleSummary {
    let weights: Int
    let projectionBytes: Int
    let effectiveBits: Double
    let averagePlaneBits: Double
    let histogram: [Int: Int]
    let vocabularyBytes: Int
    /// The head's layout, with its width when it is planes.
    let headFormat: String
    let otherBytes: Int
    let parameters: Int
    let fileBits: Double

    init(_ m: BundleManifest, fileBytes: Int) {
        let layers = m.quantization.layers
        weights = layers.reduce(0) { $0 + $1.rows * $1.cols }
        let prefixes = Set(layers.map { $0.name + "." })
        projectionBytes = m.tensors.filter { t in prefixes.contains(where: { t.name.hasPrefix($0) }) }.reduce(0) { $0 + $1.length }
        effectiveBits = weights > 0 ? Double(projectionBytes * 8) / Double(weights) : 0
        averagePlaneBits = weights > 0 ? Double(layers.reduce(0) { $0 + $1.bits * $1.rows * $1.cols }) / Double(weights) : 0
        histogram = layers.reduce(into: [:]) { $0[$1.bits, default: 0] += 1 }
        // The int8 rows and, when the head is planes, its tensors (named after `vocabulary.head`).
        let vocabulary = [TensorName.tokenEmbedding, TensorName.output] + (m.vocabulary.head.map { [$0.name] } ?? [])
        vocabularyBytes = m.tensors.filter { t in vocabulary.contains(where: { t.name == $0 || t.name.hasPrefix($0 + ".") }) }
            .reduce(0) { $0 + $1.length }
        headFormat = m.vocabulary.format + (m.vocabulary.head.map { ", head \($0.bits) bit planes" } ?? "")
        otherBytes = fileBytes - projectionBytes - vocabularyBytes
        let c = m.config
        let dense = m.tensors.filter { $0.dtype == .f32 && !$0.name.hasSuffix(".row_scale") }.reduce(0) { $0 + $1.shape.reduce(1, *) }
        parameters = weights + c.vocabSize * c.dim * (c.tiedEmbeddings ? 1 : 2) + dense
        fileBits = Double(fileBytes * 8) / Double(parameters)
    }
}
