import Dispatch
import Foundation
import ShiftAddBundle
import ShiftAddEngine
import ShiftAddModel
import ShiftAddScheduler
import ShiftAddTestSupport
import ShiftAddTokenizer
import Synchronization
import Testing

/// Tiny random LLaMAs (2 layers, width 128) with a 256-position context, built once per test
/// process straight from seeded weights (`TinyQuantizedBundle`, no converter, no BLAS): one with
/// the 260-token byte-level test vocabulary, one sized to the default model's vocabulary so it runs
/// with that model's real tokenizer. Their tokens are the same on every machine.
enum TinySchedulerModel {
    static let contextLength = 256

    private static let byteLevel = Result { try build(vocabulary: nil) }
    private static let defaultVocabulary = Result { () throws -> (WeightBundle, Tokenizer) in
        let tokenizer = try defaultTokenizer.get()
        return (try build(vocabulary: tokenizer.vocabularySize), tokenizer)
    }
    /// The default model's tokenizer (SmolLM2: chat markup, end-of-turn tokens, byte-level BPE).
    /// Fails with "run `make model`" without it.
    static let defaultTokenizer = Result { () throws -> Tokenizer in
        try Tokenizer(spec: try #require(try GGUFReader.read(path: try defaultModelPath()).tokenizer))
    }

    /// A model on the byte-level test vocabulary and its tokenizer, optionally with another EOS
    /// token. Each scheduler gets its own model: a scheduler is its model's only user.
    static func make(maxBatchTokens: Int = 512, eos: Int? = nil) throws -> (QuantizedModel, Tokenizer) {
        let bundle = try byteLevel.get()
        var spec = try #require(bundle.manifest.tokenizer)
        if let eos { spec.eosTokenId = eos }
        return (try QuantizedModel(bundle: bundle, threads: 1, maxBatchTokens: maxBatchTokens), try Tokenizer(spec: spec))
    }

    /// A model with the default model's vocabulary size, and that model's tokenizer.
    static func makeWithDefaultTokenizer() throws -> (any BatchedModel, Tokenizer) {
        let (bundle, tokenizer) = try defaultVocabulary.get()
        return (try QuantizedModel(bundle: bundle, threads: 1), tokenizer)
    }

    /// A scripted model on the byte-level vocabulary that answers any `promptLength`-token prompt
    /// with `answer`, cycling, and the byte-level tokenizer (optionally with another EOS token).
    static func scripted(answer: [Int], promptLength: Int, eos: Int? = nil) throws -> (any BatchedModel, Tokenizer) {
        let model = ScriptedModel.answering(answer, promptLength: promptLength, vocabularySize: try byteLevel.get().manifest.config.vocabSize,
                                            contextLength: contextLength)
        return (model, try byteLevelTokenizer(eos: eos))
    }

    /// The byte-level test vocabulary's tokenizer, optionally with another EOS token.
    static func byteLevelTokenizer(eos: Int? = nil) throws -> Tokenizer {
        var spec = try #require(try byteLevel.get().manifest.tokenizer)
        if let eos { spec.eosTokenId = eos }
        return try Tokenizer(spec: spec)
    }

    static func scheduler(_ configure: (inout SchedulerConfiguration) -> Void = { _ in }, maxBatchTokens: Int = 512,
                          observer: (@Sendable (SchedulerEvent) -> Void)? = nil) throws -> Scheduler {
        let (model, tokenizer) = try make(maxBatchTokens: maxBatchTokens)
        var c = SchedulerConfiguration()
        configure(&c)
        return try Scheduler(model: model, tokenizer: tokenizer, configuration: c, observer: observer)
    }

    /// Bytes of one KV block of the tiny model (for pool sizes in blocks).
    static func blockBytes(blockSize: Int = 16) throws -> Int {
        try make().0.cacheBytesPerBlock(blockSize: blockSize)
    }

    private static func build(vocabulary: Int?) throws -> WeightBundle {
        var b = GGUFBuilder.tinyModelForConversion(seed: 7)
        b.metadata.removeAll { $0.0 == "llama.context_length" }
        b.add("llama.context_length", .u32(UInt32(contextLength)))
        if let vocabulary { widen(&b, to: vocabulary) }
        soften(&b)
        return try TinyQuantizedBundle.make(from: b, bits: 2, seed: 3)
    }

    /// Scales the output norm so logits have a spread near 2 instead of 11 (the tied embedding's
    /// norm times √width): sampling then varies from token to token instead of repeating one token.
    private static func soften(_ b: inout GGUFBuilder) {
        guard let i = b.tensors.firstIndex(where: { $0.name == "output_norm.weight" }) else {
            preconditionFailure("the tiny model has an output norm")
        }
        let scaled = b.tensors[i].data.withUnsafeBytes { $0.bindMemory(to: Float.self).map { $0 * 0.15 } }
        b.tensors[i].data = scaled.withUnsafeBytes { Array($0) }
    }

    /// Pads the vocabulary with placeholder tokens and gives the embedding a random row for each.
    private static func widen(_ b: inout GGUFBuilder, to vocabulary: Int) {
        guard let t = b.metadata.firstIndex(where: { $0.0 == "tokenizer.ggml.tokens" }),
              case let .array(kind, tokens) = b.metadata[t].1,
              let e = b.tensors.firstIndex(where: { $0.name == "token_embd.weight" }) else {
            preconditionFailure("the tiny model has tokens and an embedding")
        }
        b.metadata[t].1 = .array(kind: kind, tokens + (tokens.count..<vocabulary).map { .string("<pad\($0)>") })
        let dim = b.tensors[e].ne[0]
        var rng = TestRandom(seed: 11)
        let rows = (0..<(vocabulary * dim)).map { _ in rng.normal() }
        b.tensors[e].ne = [dim, vocabulary]
        b.tensors[e].data = rows.withUnsafeBytes { Array($0) }
    }
}

/// Seeded token ids in `0..<vocabulary`.
func randomTokens(_ count: Int, seed: UInt64, vocabulary: Int = 260) -> [Int] {
    var rng = TestRandom(seed: seed)
    return (0..<count).map { _ in Int(rng.next() % UInt64(vocabulary)) }
}

/// Sampling that exercises the seeded draw and every filter.
func seededSampling(_ seed: UInt64, logprobs: Int? = nil) -> SamplingParameters {
    SamplingParameters(temperature: 0.9, topK: 50, topP: 0.95, minP: 0.01, seed: seed, repetitionPenalty: 1.1,
                       presencePenalty: 0.2, frequencyPenalty: 0.1, logprobs: logprobs)
}

/// One request's events as received, checked for shape: `.started` at most once and first,
/// `.finished` exactly once and last.
struct GenerationLog: Sendable {
    var prompt: [Int]?
    var tokens: [Int] = []
    var text = ""
    var logprobs: [TokenLogprob] = []
    var promptLogprobs: [TokenLogprob]?
    var summary: GenerationSummary?
    var malformed: [String] = []
    /// `Scheduler.stats().steps` when the first token and `.finished` arrived: the steps completed
    /// before the one delivering them (only when the recorder was given the scheduler).
    var firstTokenAtStep: Int?
    var finishedAtStep: Int?

    var reason: FinishReason? { summary?.reason }
}

/// Collects one request's events from the engine thread; `wait()` blocks until `.finished`.
final class Recorder: Sendable {
    private let log = Mutex(GenerationLog())
    private let done = DispatchSemaphore(value: 0)
    private let stepSource: Mutex<Scheduler?>
    /// Runs on the engine thread after each event is recorded.
    private let after: (@Sendable (GenerationEvent, GenerationLog) -> Void)?

    init(stats scheduler: Scheduler? = nil, after: (@Sendable (GenerationEvent, GenerationLog) -> Void)? = nil) {
        stepSource = Mutex(scheduler)
        self.after = after
    }

    func record(_ event: GenerationEvent) {
        let steps = stepSource.withLock { $0?.stats().steps }
        let snapshot = log.withLock { log -> GenerationLog in
            if log.summary != nil { log.malformed.append("event after .finished") }
            switch event {
            case let .started(prompt):
                if log.prompt != nil || !log.tokens.isEmpty { log.malformed.append(".started twice or late") }
                log.prompt = prompt
            case let .promptLogprobs(entries):
                if log.prompt == nil || !log.tokens.isEmpty || log.promptLogprobs != nil {
                    log.malformed.append(".promptLogprobs out of order")
                }
                log.promptLogprobs = entries
            case let .delta(text, tokens, logprobs):
                if log.prompt == nil { log.malformed.append(".delta before .started") }
                if log.tokens.isEmpty { log.firstTokenAtStep = steps }
                log.text += text
                log.tokens += tokens
                log.logprobs += logprobs
            case let .finished(summary):
                log.summary = summary
                log.finishedAtStep = steps
            }
            return log
        }
        after?(event, snapshot)
        if case .finished = event { done.signal() }
    }

    var handler: @Sendable (GenerationEvent) -> Void { { [self] in record($0) } }

    @discardableResult
    func wait() -> GenerationLog {
        done.wait()
        done.signal()
        return log.withLock { $0 }
    }
}

extension Scheduler {
    func start(_ request: GenerationRequest, recorder: Recorder = Recorder()) throws -> (GenerationID, Recorder) {
        (try submit(request, events: recorder.handler), recorder)
    }

    /// Submits and waits for the end.
    func run(_ request: GenerationRequest) throws -> GenerationLog {
        try start(request).1.wait()
    }

    /// Waits (without timing anything) until the engine has published a step matching `condition`.
    func waitForStats(_ condition: (SchedulerStats) -> Bool) -> SchedulerStats {
        while true {
            let s = stats()
            if condition(s) { return s }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }
}

/// Each request run alone, one after another, on a fresh scheduler (by default over the byte-level model).
func runAlone(_ requests: [GenerationRequest],
              model: () throws -> (any BatchedModel, Tokenizer) = { try TinySchedulerModel.make() }) throws -> [GenerationLog] {
    let (m, tokenizer) = try model()
    let scheduler = try Scheduler(model: m, tokenizer: tokenizer)
    defer { scheduler.shutdown() }
    return try requests.map { try scheduler.run($0) }
}

/// Scheduler events collected for assertions after the fact.
final class EventLog: Sendable {
    private let events = Mutex<[SchedulerEvent]>([])
    private let snapshots = Mutex<[SchedulerStats]>([])
    private let scheduler = Mutex<Scheduler?>(nil)

    /// Also records `stats()` at every `.step` (published just before the event) once `attach`ed.
    var observer: @Sendable (SchedulerEvent) -> Void {
        { [self] event in
            events.withLock { $0.append(event) }
            if case .step = event, let s = scheduler.withLock({ $0 }) {
                let stats = s.stats()
                snapshots.withLock { $0.append(stats) }
            }
        }
    }

    func attach(_ s: Scheduler) { scheduler.withLock { $0 = s } }
    func detach() { scheduler.withLock { $0 = nil } }

    var all: [SchedulerEvent] { events.withLock { $0 } }
    var stepStats: [SchedulerStats] { snapshots.withLock { $0 } }

    var preemptions: Int { all.count { if case .preempted = $0 { true } else { false } } }
    var stepTokenCounts: [Int] { all.compactMap { if case let .step(tokens, _, _) = $0 { tokens } else { nil } } }
}

/// Holds the engine thread inside an event handler, so that requests submitted meanwhile all join
/// the batch at the same step. `open()` lets it continue.
final class Gate: Sendable {
    private let holding = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    let recorder: Recorder

    /// Submits a one-token request to `scheduler` and returns once the engine is held in its handler.
    init(_ scheduler: Scheduler) throws {
        let holding = holding, released = released
        recorder = Recorder { event, _ in
            if case .delta = event {
                holding.signal()
                released.wait()
            }
        }
        _ = try scheduler.start(GenerationRequest(prompt: .tokens([1, 2, 3]), sampling: .init(temperature: 0), maxTokens: 1),
                                recorder: recorder)
        holding.wait()
    }

    func open() {
        released.signal()
        recorder.wait()
    }
}

/// The order in which events of several requests arrived, by request label.
final class Timeline: Sendable {
    enum Kind: Equatable, Sendable { case started, promptLogprobs, delta, finished }
    private let entries = Mutex<[(String, Kind)]>([])

    func recorder(_ label: String, stats scheduler: Scheduler? = nil,
                  then after: (@Sendable (GenerationEvent, GenerationLog) -> Void)? = nil) -> Recorder {
        Recorder(stats: scheduler) { [self] event, log in
            let kind: Kind = switch event {
            case .started: .started
            case .promptLogprobs: .promptLogprobs
            case .delta: .delta
            case .finished: .finished
            }
            entries.withLock { $0.append((label, kind)) }
            after?(event, log)
        }
    }

    var all: [(String, Kind)] { entries.withLock { $0 } }

    func labels(of kind: Kind) -> [String] { all.filter { $0.1 == kind }.map(\.0) }
}
