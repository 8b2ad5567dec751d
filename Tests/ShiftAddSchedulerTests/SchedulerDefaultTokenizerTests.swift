import Dispatch
import Foundation
import ShiftAddEngine
import ShiftAddScheduler
import Synchronization
import ShiftAddTestSupport
import ShiftAddTokenizer
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
    /// text right before it; the full streamed text equals the decoded tokens. The model is scripted
    /// to answer with a known sentence, so every boundary of it is tried.
    @Test func stopStringsSpanningTokensCutTheStreamedText() throws {
        let tokenizer = try TinySchedulerModel.defaultTokenizer.get()
        let prompt = tokenizer.encode(Self.chat, addSpecial: false, parseSpecial: true)
        let answer = tokenizer.encode("The capital of France is Paris, à la belle étoile.", addSpecial: false, parseSpecial: false)
        let scripted = { () -> (any BatchedModel, Tokenizer) in
            (ScriptedModel.answering(answer, promptLength: prompt.count, vocabularySize: tokenizer.vocabularySize), tokenizer)
        }
        let request = GenerationRequest(prompt: .tokens(prompt), sampling: .init(temperature: 0), maxTokens: answer.count,
                                        ignoreEOS: true)
        let reference = try runAlone([request], model: scripted)[0]
        #expect(reference.tokens == answer)
        #expect(reference.text == tokenizer.decode(answer, skipSpecial: true))
        var boundaries = 0
        for k in 1..<answer.count {
            let before = tokenizer.decode(Array(answer[..<k]), skipSpecial: true)
            let through = tokenizer.decode(Array(answer[...k]), skipSpecial: true)
            guard before.count >= 2, through.count >= before.count + 2, through.hasPrefix(before) else { continue }
            let stop = String(before.suffix(2)) + String(through.dropFirst(before.count).prefix(2))
            // Its first occurrence must be the one across this boundary.
            guard let first = reference.text.range(of: stop),
                  reference.text.distance(from: reference.text.startIndex, to: first.lowerBound) == before.count - 2 else { continue }
            var stopping = request
            stopping.stop = [stop]
            let stopped = try runAlone([stopping], model: scripted)[0]
            #expect(stopped.reason == .stop, "stop \(stop.debugDescription)")
            #expect(stopped.text == String(before.dropLast(2)), "stop \(stop.debugDescription)")
            #expect(stopped.tokens == Array(answer[...k]), "stop \(stop.debugDescription)")
            boundaries += 1
        }
        #expect(boundaries >= 5)
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
