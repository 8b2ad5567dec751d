import ShiftAddModel

/// Activation buffers of the kernel engine's forward passes, [tokens][width] each. They are kept
/// between passes and only grow (to the largest batch seen), so a decoding step allocates no
/// activation memory. Owned by one model, which is driven by one thread.
final class ForwardBuffers {
    private let config: ModelConfig
    /// Tokens every buffer has room for.
    private(set) var capacity = 0
    /// The residual stream.
    private(set) var x: UnsafeMutablePointer<Float>
    private(set) var normed: UnsafeMutablePointer<Float>
    private(set) var q: UnsafeMutablePointer<Float>
    private(set) var k: UnsafeMutablePointer<Float>
    private(set) var v: UnsafeMutablePointer<Float>
    private(set) var attention: UnsafeMutablePointer<Float>
    private(set) var projected: UnsafeMutablePointer<Float>
    private(set) var gate: UnsafeMutablePointer<Float>
    private(set) var up: UnsafeMutablePointer<Float>
    /// Final-norm inputs of the rows the output head runs on.
    private(set) var selected: UnsafeMutablePointer<Float>

    init(config: ModelConfig) {
        self.config = config
        let c = config
        x = .allocate(capacity: c.dim)
        normed = .allocate(capacity: c.dim)
        q = .allocate(capacity: c.qDim)
        k = .allocate(capacity: c.kvDim)
        v = .allocate(capacity: c.kvDim)
        attention = .allocate(capacity: c.qDim)
        projected = .allocate(capacity: c.dim)
        gate = .allocate(capacity: c.hiddenDim)
        up = .allocate(capacity: c.hiddenDim)
        selected = .allocate(capacity: c.dim)
        capacity = 1
    }

    deinit { release() }

    /// Makes room for `tokens` tokens; the contents are not kept.
    func reserve(tokens n: Int) {
        guard n > capacity else { return }
        release()
        let c = config
        x = .allocate(capacity: n * c.dim)
        normed = .allocate(capacity: n * c.dim)
        q = .allocate(capacity: n * c.qDim)
        k = .allocate(capacity: n * c.kvDim)
        v = .allocate(capacity: n * c.kvDim)
        attention = .allocate(capacity: n * c.qDim)
        projected = .allocate(capacity: n * c.dim)
        gate = .allocate(capacity: n * c.hiddenDim)
        up = .allocate(capacity: n * c.hiddenDim)
        selected = .allocate(capacity: n * c.dim)
        capacity = n
    }

    private func release() {
        for p in [x, normed, q, k, v, attention, projected, gate, up, selected] { p.deallocate() }
    }
}
