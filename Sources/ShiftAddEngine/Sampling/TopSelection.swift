/// Partial selection of the largest logits, so that a small top-k or top-n never sorts the whole vocabulary.
/// Order: larger value first; equal values, lower index first; NaN counts as -infinity.
enum TopSelection {
    /// Indices of the `k` largest values, best first.
    static func largest(_ k: Int, of values: UnsafeBufferPointer<Float>) -> [Int] {
        let k = min(k, values.count)
        guard k > 0 else { return [] }
        if k == 1 { return [argmax(values)] }
        if k * 8 >= values.count { return Array(sorted(Array(values.indices), by: values).prefix(k)) }
        // Min-heap on "worse": the root is the worst of the best k seen so far. Indices arrive in
        // ascending order, so a later equal value is always worse and never enters.
        var heap = Array(0..<k)
        func worse(_ a: Int, _ b: Int) -> Bool {
            let va = key(values[a]), vb = key(values[b])
            return va < vb || (va == vb && a > b)
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < k, worse(heap[l], heap[m]) { m = l }
                if r < k, worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(i) }
        var threshold = key(values[heap[0]])
        for i in k..<values.count {
            let v = key(values[i])
            guard v > threshold else { continue }
            heap[0] = i
            siftDown(0)
            threshold = key(values[heap[0]])
        }
        return sorted(heap, by: values)
    }

    /// `indices` ordered best first, sorted as packed integers (order bits of the value, then the index)
    /// rather than through a comparison closure.
    static func sorted(_ indices: [Int], by values: UnsafeBufferPointer<Float>) -> [Int] {
        var keys = indices.map { UInt64(~orderBits(values[$0])) << 32 | UInt64(UInt32($0)) }
        keys.sort()
        return keys.map { Int($0 & 0xFFFF_FFFF) }
    }

    /// An unsigned integer with the same order as the value (NaN as -infinity, -0 as +0).
    @inline(__always) static func orderBits(_ v: Float) -> UInt32 {
        let bits = (key(v) + 0).bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    /// The first index of the largest value (0 for an empty or all-NaN buffer).
    static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int { LogitKernels.argmax(values) }

    @inline(__always) static func key(_ v: Float) -> Float { v.isNaN ? -.infinity : v }
}
