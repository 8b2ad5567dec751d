import ShiftAddModel

/// One sequence being decoded by some engine: feed tokens, get logits. Lets tools such as
/// `generate` and `eval` drive the fp32 reference and the kernel engine alike.
public protocol DecodingSession: AnyObject {
    /// Positions filled so far.
    var count: Int { get }
    /// Positions the session can hold.
    var capacity: Int { get }
    /// Appends tokens and returns logits for each of them ([tokens][vocab]) when `allLogits`,
    /// else for the last one only.
    func append(_ tokens: [Int], allLogits: Bool) -> [Float]
}

extension DecodingSession {
    /// Feeds `prompt` to the empty session, then draws each next token from the last logits with
    /// `sampler` and feeds it back, deciding when to stop as the scheduler does for a request: at a
    /// token of `stopTokens` (drawn, then neither fed nor emitted), after `maxTokens` tokens, or
    /// when prompt and generated tokens fill the session's capacity. `emit` receives every other
    /// token as it is drawn. Returns the generated tokens, a final stop token included.
    @discardableResult
    public func generate(prompt: [Int], maxTokens: Int, sampler: inout TokenSampler, stopTokens: Set<Int>,
                         emit: (Int) -> Void = { _ in }) -> [Int] {
        precondition(count == 0 && !prompt.isEmpty && prompt.count < capacity && maxTokens > 0,
                     "\(prompt.count) prompt tokens, \(maxTokens) to generate, a session of \(count)/\(capacity)")
        var generated: [Int] = []
        var logits = append(prompt, allLogits: false)
        while true {
            let token = logits.withUnsafeBufferPointer {
                sampler.sample($0, promptTokens: prompt, generated: generated).token
            }
            generated.append(token)
            if stopTokens.contains(token) { break }
            emit(token)
            if generated.count == maxTokens || count + 1 == capacity { break }
            logits = append([token], allLogits: false)
        }
        return generated
    }
}

extension ReferenceModel {
    public func session(capacity: Int) -> any DecodingSession {
        ReferenceSession(model: self, cache: makeCache(capacity: capacity))
    }
}

final class ReferenceSession: DecodingSession {
    let model: ReferenceModel
    let cache: KVCache

    init(model: ReferenceModel, cache: KVCache) {
        self.model = model
        self.cache = cache
    }

    var count: Int { cache.count }
    var capacity: Int { cache.capacity }

    func append(_ tokens: [Int], allLogits: Bool) -> [Float] {
        model.forward([(tokens, cache)], allLogits: allLogits)
    }
}

extension QuantizedModel {
    /// A session with a private paged cache large enough for `capacity` positions.
    public func session(capacity: Int) -> any DecodingSession {
        precondition(capacity <= config.contextLength, "capacity beyond the context of \(config.contextLength)")
        let cache = makeCache(blocks: (capacity + 15) / 16, blockSize: 16)
        return QuantizedSession(model: self, sequence: PagedSequence(cache: cache), capacity: capacity)
    }
}

final class QuantizedSession: DecodingSession {
    let model: QuantizedModel
    let sequence: PagedSequence
    let capacity: Int

    init(model: QuantizedModel, sequence: PagedSequence, capacity: Int) {
        self.model = model
        self.sequence = sequence
        self.capacity = capacity
    }

    var count: Int { sequence.count }

    /// Prompts longer than the engine's batch limit run in chunks.
    func append(_ tokens: [Int], allLogits: Bool) -> [Float] {
        precondition(sequence.count + tokens.count <= capacity, "sequence exceeds its capacity")
        precondition(sequence.reserve(tokens.count), "cache sized for the capacity")
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + model.maxBatchTokens)
            let chunk = model.forward([(Array(tokens[start..<end]), sequence)], allLogits: allLogits)
            if allLogits { logits += chunk } else if end == tokens.count { logits = chunk }
            start = end
        }
        return logits
    }
}
