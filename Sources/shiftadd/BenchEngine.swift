import Dispatch
import Foundation
import ShiftAddBundle
import ShiftAddCommandLine
import ShiftAddEngine
import ShiftAddModel

/// An engine as the benchmark drives it: fresh sequences, and one batched forward pass over
/// several of them returning each sequence's last logits.
protocol BenchTarget {
    associatedtype Sequence
    var vocabSize: Int { get }
    /// Most tokens one forward pass takes.
    var maxBatchTokens: Int { get }
    /// `count` empty sequences of `capacity` positions each, with storage of their own.
    func makeSequences(_ count: Int, capacity: Int) -> [Sequence]
    func forward(_ batch: [(tokens: [Int], sequence: Sequence)], profile: EngineProfile?) -> [Float]
}

struct KernelTarget: BenchTarget {
    let model: QuantizedModel
    var vocabSize: Int { model.config.vocabSize }
    var maxBatchTokens: Int { model.maxBatchTokens }

    func makeSequences(_ count: Int, capacity: Int) -> [PagedSequence] {
        let blockSize = 16
        let cache = model.makeCache(blocks: count * ((capacity + blockSize - 1) / blockSize), blockSize: blockSize)
        return (0..<count).map { _ in
            let s = PagedSequence(cache: cache)
            precondition(s.reserve(capacity), "cache sized for the sequences")
            return s
        }
    }

    func forward(_ batch: [(tokens: [Int], sequence: PagedSequence)], profile: EngineProfile?) -> [Float] {
        model.forward(batch, allLogits: false, profile: profile)
    }
}

struct ReferenceTarget: BenchTarget {
    let model: ReferenceModel
    var vocabSize: Int { model.config.vocabSize }
    var maxBatchTokens: Int { 512 }

    func makeSequences(_ count: Int, capacity: Int) -> [KVCache] {
        (0..<count).map { _ in model.makeCache(capacity: capacity) }
    }

    func forward(_ batch: [(tokens: [Int], sequence: KVCache)], profile: EngineProfile?) -> [Float] {
        model.forward(batch.map { ($0.tokens, $0.sequence) }, allLogits: false)
    }
}

/// The measurement protocol, run on one engine in this process; every figure is per repeat.
struct BenchProtocol {
    static let promptTokens = 128
    static let decodeTokens = 128
    static let prefillTokens = 512
    static let warmupTokens = 32

    let repeats: Int
    let batchSizes: [Int]
    /// Fixed pseudo-random token ids (seed 0): the 512-token prefill prompt; decode prompts are
    /// 128-token windows of it, a different window per sequence.
    let tokens: [Int]

    init(repeats: Int, batchSizes: [Int], vocabSize: Int) {
        self.repeats = repeats
        self.batchSizes = batchSizes
        var g = SeededGenerator(seed: 0)
        // Ids below 256 are left out: that is where checkpoints keep special and byte tokens.
        tokens = (0..<Self.prefillTokens).map { _ in 256 + Int(g.next() % UInt64(max(1, vocabSize - 256))) }
    }

    func prompt(sequence s: Int) -> [Int] {
        let start = (s * 7) % (tokens.count - Self.promptTokens)
        return Array(tokens[start..<(start + Self.promptTokens)])
    }

    /// Runs every measurement and returns the raw figures as a JSON object.
    func run<T: BenchTarget>(_ target: T, projectionBytes: Int?) -> [String: Any] {
        var result: [String: Any] = [:]
        decode(target, sequences: 1, steps: Self.warmupTokens, profile: nil)
        _ = prefill(target)

        let profile = projectionBytes == nil ? nil : EngineProfile()
        var decodeRates: [Double] = []
        var shares: [String: [Double]] = [:]
        var gigabytes: [Double] = []
        for _ in 0..<repeats {
            profile?.reset()
            let seconds = decode(target, sequences: 1, steps: Self.decodeTokens, profile: profile)
            decodeRates.append(Double(Self.decodeTokens) / seconds)
            if let profile, let projectionBytes {
                shares.merge(Self.shares(profile, seconds: seconds)) { $0 + $1 }
                gigabytes.append(Double(projectionBytes) * Double(Self.decodeTokens) / profile.seconds(.lookups) / 1e9)
            }
        }
        result["decode_tokens_per_s"] = decodeRates
        if profile != nil {
            result["decode_time_shares"] = shares
            result["kernel_gb_per_s"] = gigabytes
        }
        result["prefill_tokens_per_s"] = (0..<repeats).map { _ in Double(Self.prefillTokens) / prefill(target) }
        result["peak_rss_bytes"] = peakResidentBytes()

        var batched: [String: [Double]] = [:]
        var batchedShares: [String: [String: [Double]]] = [:]
        for b in batchSizes {
            for _ in 0..<repeats {
                profile?.reset()
                let seconds = decode(target, sequences: b, steps: Self.decodeTokens, profile: profile)
                batched["\(b)", default: []].append(Double(b * Self.decodeTokens) / seconds)
                if let profile { batchedShares["\(b)", default: [:]].merge(Self.shares(profile, seconds: seconds)) { $0 + $1 } }
            }
        }
        result["batched_tokens_per_s"] = batched
        if profile != nil { result["batched_time_shares"] = batchedShares }
        result["peak_rss_batched_bytes"] = peakResidentBytes()
        return result
    }

    /// Each part's share of `seconds` of decoding, and the rest as "other", as one-element lists.
    static func shares(_ profile: EngineProfile, seconds: Double) -> [String: [Double]] {
        var shares: [String: [Double]] = [:]
        var parts = 0.0
        for part in EngineProfile.Part.allCases {
            shares[part.name] = [profile.seconds(part) / seconds]
            parts += profile.seconds(part)
        }
        shares["other"] = [(seconds - parts) / seconds]
        return shares
    }

    /// Prefills `sequences` prompts (untimed, in passes of at most the engine's batch limit),
    /// then times `steps` greedy decoding steps that advance every sequence together.
    @discardableResult
    func decode<T: BenchTarget>(_ target: T, sequences count: Int, steps: Int, profile: EngineProfile?) -> Double {
        let sequences = target.makeSequences(count, capacity: Self.promptTokens + steps)
        let perPass = max(1, target.maxBatchTokens / Self.promptTokens)
        var next: [Int] = []
        for first in stride(from: 0, to: count, by: perPass) {
            let batch = (first..<min(count, first + perPass)).map { (tokens: prompt(sequence: $0), sequence: sequences[$0]) }
            next += greedy(target.forward(batch, profile: nil), rows: batch.count, vocab: target.vocabSize)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps {
            let logits = target.forward((0..<count).map { ([next[$0]], sequences[$0]) }, profile: profile)
            next = greedy(logits, rows: count, vocab: target.vocabSize)
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// Seconds to prefill the 512-token prompt into a fresh sequence in one pass.
    func prefill<T: BenchTarget>(_ target: T) -> Double {
        let sequence = target.makeSequences(1, capacity: Self.prefillTokens)[0]
        let start = DispatchTime.now().uptimeNanoseconds
        _ = target.forward([(tokens, sequence)], profile: nil)
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// The most likely token of each row, ties to the lowest id.
    func greedy(_ logits: [Float], rows: Int, vocab: Int) -> [Int] {
        logits.withUnsafeBufferPointer { l in
            (0..<rows).map { r in
                var best = 0
                var bestValue = -Float.infinity
                for i in 0..<vocab where l[r * vocab + i] > bestValue {
                    best = i
                    bestValue = l[r * vocab + i]
                }
                return best
            }
        }
    }
}
