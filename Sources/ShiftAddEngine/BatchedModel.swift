/// What a batching scheduler needs of a model: its sizes, a paged KV cache of its shape, and one
/// forward pass over many sequences' new tokens, each with the block table the caller manages.
///
/// `QuantizedModel` is the product's conformance; tests script one whose next-token distribution
/// they decide, so the scheduler's behaviour is checked on exactly the tokens a test needs.
/// A conformance is used from one thread at a time (the scheduler's engine thread).
public protocol BatchedModel: AnyObject {
    /// Logits per row; token ids are below it.
    var vocabularySize: Int { get }
    /// Positions one sequence can hold.
    var contextLength: Int { get }
    /// Tokens one `forward` call takes at most.
    var maxBatchTokens: Int { get }

    /// Positions a query of the model's sliding-window layers reads, itself included; nil when
    /// every layer reads the whole context.
    var attentionWindow: Int? { get }

    /// A paged cache for this model holding `blocks` blocks and `windowSlots` window slots (for
    /// the sliding-window layers; ignored without them) of `blockSize` positions.
    func makeCache(blocks: Int, windowSlots: Int, blockSize: Int) -> PagedKVCache
    /// Bytes one cache block of `blockSize` positions takes in the whole-context layers, and one
    /// window slot in the sliding-window layers (0 without them), for sizing a cache to a budget.
    func cacheBytesPerBlock(blockSize: Int) -> Int
    func cacheBytesPerWindowSlot(blockSize: Int) -> Int
    /// Appends every entry's tokens at its positions (blocks reserved by the caller) and returns
    /// logits rows ([rows][vocabularySize]) in batch order for the tokens each entry asks for.
    func forward(_ entries: [ForwardEntry], cache: PagedKVCache) -> [Float]
}

extension QuantizedModel: BatchedModel {
    public var vocabularySize: Int { config.vocabSize }
    public var contextLength: Int { config.contextLength }

    public func forward(_ entries: [ForwardEntry], cache: PagedKVCache) -> [Float] {
        forward(entries, cache: cache, profile: nil)
    }
}
