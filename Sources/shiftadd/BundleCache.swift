import Foundation
import ShiftAddBundle
import ShiftAddConvert
import ShiftAddModel

/// Where `serve` keeps bundles it converted from checkpoints, so a GGUF given to `serve` is
/// converted once and later starts load the bundle directly.
struct BundleCache {
    let directory: String
    let options: ConversionOptions
    let presetName: String

    /// A bundle for `path`: the path itself when it is a bundle (or named like one, so a damaged
    /// bundle gets the bundle reader's error), else the cached conversion, converting first when the
    /// cache has none or the checkpoint changed since.
    func bundle(for path: String, log: (String) -> Void) throws -> String {
        if WeightBundle.isBundle(path: path) || path.hasSuffix(".sabundle") { return path }
        let target = cachedPath(for: path)
        if isFresh(target, source: path) {
            log("using converted bundle \(target)")
            return target
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        log("converting \(path) → \(target) (\(presetName) preset; done once, then cached)")
        let started = Date()
        let source = try ModelLoader.load(path: path, tokenizerPath: nil)
        let converter = try Converter(source: source, options: options)
        var lastStage = ""
        let writer = try converter.convert { p in
            if p.stage != lastStage || p.done == p.total {
                lastStage = p.stage
                log("conversion: \(p.stage) \(p.done)/\(p.total)")
            }
        }
        try writer.write(to: target)
        log(String(format: "conversion finished in %.0f s", Date().timeIntervalSince(started)))
        return target
    }

    /// `<cache>/<checkpoint name>-<path tag>.<bits>.<preset>.sabundle`. The tag (8 hex digits of the
    /// SHA-256 of the checkpoint's absolute path) keeps checkpoints of the same name in different
    /// folders apart; a directory's name is kept whole (`Qwen2.5-0.5B` has no extension).
    func cachedPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let name = FileManager.default.isDirectory(atPath: url.path) ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
        let tag = Array(url.path.utf8).withUnsafeBytes { Digest.sha256Hex($0) }.prefix(8)
        let bits: String
        switch options.bits {
        case let .uniform(b): bits = "b\(b)"
        case let .average(a): bits = "avg\(a)"
        case let .maxBytes(n): bits = "max\(n)"
        }
        return URL(fileURLWithPath: directory).appendingPathComponent("\(name)-\(tag).\(bits).\(presetName).sabundle").path
    }

    /// A cached bundle is used when it is a bundle of this build's format version, converted with
    /// the options this build's preset records, after the checkpoint last changed (for a directory:
    /// after the newest of its files). Otherwise (an older format, a preset that has changed since)
    /// it is converted again.
    private func isFresh(_ bundle: String, source: String) -> Bool {
        guard WeightBundle.formatVersion(path: bundle) == BundleFormat.version, let b = Self.modified(bundle), let s = Self.lastChange(source),
              (try? WeightBundle(path: bundle))?.manifest.provenance.options == options.recorded else { return false }
        return b >= s
    }

    private static func lastChange(_ path: String) -> Date? {
        guard FileManager.default.isDirectory(atPath: path) else { return modified(path) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { modified((path as NSString).appendingPathComponent($0)) }.max()
    }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// The cache directory when `--bundle-cache` is not set: `$XDG_CACHE_HOME/shiftadd/bundles`.
    static func defaultDirectory(environment: [String: String]) -> String {
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
        return (base as NSString).appendingPathComponent("shiftadd/bundles")
    }
}
