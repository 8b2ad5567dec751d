import Dispatch
import Foundation
import ShiftAddScheduler
import Synchronization
import Testing

/// The scheduler with the default model's tokenizer (SmolLM2: chat markup, end-of-turn tokens,
/// byte-level BPE over a 49,152-token vocabulary) on a tiny random model of that vocabulary size.
/// Fails with "run `make model`" when the default model is missing.
@Suite struct SchedulerDefaultTokenizerTests {
    private func scheduler() throws -> Scheduler {
        let (model, tokenizer) = try TinySchedulerModel.makeWithDefaultTokenizer()
        return try Scheduler(model: model, tokenizer: tokenizer)
    }

    private static let chat = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"

    @Test func chatMarkupInTextPromptsBecomesSpecialTokens() throws {
        let s = try scheduler()
        defer { s.shutdown() }
        let log = try s.run(GenerationRequest(prompt: .text(Self.chat), addSpecialTokens: false, sampling: .init(temperature: 0),
                                              maxTokens: 3, ignoreEOS: true))
        let start = try #require(s.tokenizer.tokenId(for: "<|im_start|>"))
        let end = try #require(s.tokenizer.tokenId(for: "<|im_end|>"))
        let prompt = try #require(log.prompt)
        #expect(prompt == s.tokenizer.encode(Self.chat, addSpecial: false, parseSpecial: true))
        #expect(prompt.first == start)
        #expect(prompt.count { $0 == start } == 2)
        #expect(prompt.count { $0 == end } == 1)
        #expect(s.tokenizer.endOfGenerationIds.contains(end))
        #expect(log.tokens.count == 3)
    }

    /// A stop string made of the end of one token's text and the start of the next cuts the streamed
    /// text right before it; the full streamed text equals the decoded tokens.
    @Test func stopStringsSpanningTokensCutTheStreamedText() throws {
        let s = try scheduler()
        defer { s.shutdown() }
        let request = GenerationRequest(prompt: .text(Self.chat), addSpecialTokens: false, sampling: .init(seed: 8), maxTokens: 40,
                                        ignoreEOS: true)
        let reference = try s.run(request)
        #expect(reference.text == s.tokenizer.decode(reference.tokens, skipSpecial: true))
        var found: (stop: String, token: Int, cut: String)?
        for k in 3..<(reference.tokens.count - 1) where found == nil {
            let before = s.tokenizer.decode(Array(reference.tokens[..<k]), skipSpecial: true)
            let through = s.tokenizer.decode(Array(reference.tokens[...k]), skipSpecial: true)
            guard before.count >= 2, through.count >= before.count + 2, through.hasPrefix(before),
                  reference.text.hasPrefix(through) else { continue }
            let stop = String(before.suffix(2)) + String(through.dropFirst(before.count).prefix(2))
            // Its first occurrence must be the one across this boundary.
            guard !stop.contains("\u{FFFD}"), let first = reference.text.range(of: stop),
                  reference.text.distance(from: reference.text.startIndex, to: first.lowerBound) == before.count - 2 else { continue }
            found = (stop, k, String(before.dropLast(2)))
        }
        let (stop, k, cut) = try #require(found, "no token boundary with text on both sides in \(reference.text.debugDescription)")
        var stopping = request
        stopping.stop = [stop]
        let stopped = try s.run(stopping)
        #expect(stopped.reason == .stop)
        #expect(stopped.text == cut)
        #expect(stopped.tokens == Array(reference.tokens[...k]))
    }

    /// The batched-determinism check with text prompts, a 49k vocabulary and log-probabilities.
    @Test func concurrentSeededChatRequestsMatchTheirSoloRuns() throws {
        let questions = (0..<32).map { "Question \($0): name \($0 % 5 + 1) rivers of Europe, é à ü ß 漢字 🙂" }
        let requests = questions.enumerated().map { i, q in
            GenerationRequest(prompt: .text("<|im_start|>user\n\(q)<|im_end|>\n<|im_start|>assistant\n"), addSpecialTokens: false,
                              sampling: seededSampling(UInt64(i), logprobs: i % 2 == 0 ? 2 : nil), maxTokens: 16)
        }
        let s = try scheduler()
        defer { s.shutdown() }
        let gate = try Gate(s)
        let recorders = Mutex<[Int: Recorder]>([:])
        DispatchQueue.concurrentPerform(iterations: requests.count) { i in
            if let (_, r) = try? s.start(requests[i]) { recorders.withLock { $0[i] = r } }
        }
        gate.open()
        let batched = try (0..<requests.count).map { i in try #require(recorders.withLock { $0[i] }).wait() }
        let alone = try runAlone(requests, model: TinySchedulerModel.makeWithDefaultTokenizer)
        for i in requests.indices {
            #expect(batched[i].malformed.isEmpty)
            #expect(batched[i].tokens == alone[i].tokens, "request \(i)")
            #expect(batched[i].text == alone[i].text, "request \(i)")
            #expect(batched[i].logprobs.map(\.logprob) == alone[i].logprobs.map(\.logprob))
            #expect(batched[i].logprobs.map(\.text) == alone[i].logprobs.map(\.text))
        }
    }
}
