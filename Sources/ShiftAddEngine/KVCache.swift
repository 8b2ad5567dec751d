/// Keys and values of one sequence for every layer, contiguous by position: [layer][position][kvDim].
/// The reference engine's cache; the serving engine pages its cache in blocks.
public final class KVCache {
    public let capacity: Int
    public private(set) var count = 0
    let layers: Int
    let kvDim: Int
    var keys: [Float]
    var values: [Float]

    init(layers: Int, kvDim: Int, capacity: Int) {
        self.layers = layers
        self.kvDim = kvDim
        self.capacity = capacity
        keys = [Float](repeating: 0, count: layers * capacity * kvDim)
        values = keys
    }

    /// Forgets every position (the storage is kept).
    public func reset() { count = 0 }

    /// Drops positions from `length` on.
    public func truncate(to length: Int) {
        precondition(length >= 0 && length <= count)
        count = length
    }

    func advance(by n: Int) {
        precondition(count + n <= capacity)
        count += n
    }

    func offset(layer: Int, position: Int) -> Int { (layer * capacity + position) * kvDim }

    func store(layer: Int, position: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let o = offset(layer: layer, position: position)
        keys.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: o).update(from: key, count: kvDim) }
        values.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: o).update(from: value, count: kvDim) }
    }
}
