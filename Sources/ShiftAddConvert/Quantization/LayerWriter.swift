import Dispatch
import ShiftAddBundle

/// Writes the planes and scales of a `QuantizedLinear` row by row into caller-owned buffers.
/// Different rows touch disjoint memory, so rows may be written from different threads.
struct LayerWriter: @unchecked Sendable {
    let rows: Int
    let cols: Int
    let groupSize: Int
    let bits: Int
    let planes: UnsafeMutablePointer<UInt64>
    let alpha: UnsafeMutablePointer<Float>
    let beta: UnsafeMutablePointer<Float>

    var words: Int { (cols + 63) / 64 }
    var groups: Int { (cols + groupSize - 1) / groupSize }

    func setScales(row: Int, group: Int, _ scales: GroupScales) {
        for p in 0..<bits { alpha[(row * groups + group) * bits + p] = scales.alpha[p] }
        beta[row * groups + group] = scales.beta
    }

    /// Stores the pattern (bit p set = +1 in plane p) of one weight; the bits start cleared.
    @inline(__always)
    func setPattern(row: Int, col: Int, _ pattern: Int) {
        let bit = UInt64(1) << UInt64(col % 64)
        for p in 0..<bits where (pattern >> p) & 1 == 1 {
            planes[(p * rows + row) * words + col / 64] |= bit
        }
    }

    /// Allocates zeroed buffers for a layer, lets `body` fill them, and wraps the result.
    static func build(rows: Int, cols: Int, groupSize: Int, bits: Int,
                      _ body: (LayerWriter) throws -> Void) throws -> QuantizedLinear {
        let words = (cols + 63) / 64
        let groups = (cols + groupSize - 1) / groupSize
        var planes = [UInt64](repeating: 0, count: bits * rows * words)
        var alpha = [Float](repeating: 0, count: rows * groups * bits)
        var beta = [Float](repeating: 0, count: rows * groups)
        try planes.withUnsafeMutableBufferPointer { pl in
            try alpha.withUnsafeMutableBufferPointer { al in
                try beta.withUnsafeMutableBufferPointer { be in
                    try body(LayerWriter(rows: rows, cols: cols, groupSize: groupSize, bits: bits,
                                         planes: pl.baseAddress!, alpha: al.baseAddress!, beta: be.baseAddress!))
                }
            }
        }
        return try QuantizedLinear(rows: rows, cols: cols, groupSize: groupSize, bits: bits,
                                   planes: planes, alpha: alpha, beta: beta)
    }
}

/// Runs `body` over disjoint ranges covering `0..<count` on all cores. Results do not depend on
/// how the ranges are scheduled as long as `body` only writes state owned by its range.
func forEachRange(_ count: Int, chunk: Int = 16, _ body: @Sendable (Range<Int>) -> Void) {
    let chunks = (count + chunk - 1) / chunk
    if chunks <= 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { i in
        body((i * chunk)..<min(count, (i + 1) * chunk))
    }
}

/// A pointer into a buffer that concurrent tasks share, each touching only its own part.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}
