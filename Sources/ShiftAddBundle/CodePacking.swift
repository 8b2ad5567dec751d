/// Fixed-width codes packed back to back, least significant bit first, into 64-bit words: the
/// stored form of the scale codes (a 10-bit code costs 10 bits, not 16).
public enum CodePacking {
    public static func wordCount(codes: Int, width: Int) -> Int { (codes * width + 63) / 64 }

    public static func pack(_ codes: [UInt16], width: Int) -> [UInt64] {
        precondition((1...16).contains(width))
        var words = [UInt64](repeating: 0, count: wordCount(codes: codes.count, width: width))
        for (i, code) in codes.enumerated() {
            precondition(Int(code) >> width == 0, "code \(code) wider than \(width) bits")
            let bit = i * width
            let (w, o) = (bit / 64, bit % 64)
            words[w] |= UInt64(code) << o
            if o + width > 64 { words[w + 1] |= UInt64(code) >> (64 - o) }
        }
        return words
    }

    public static func unpack(_ words: UnsafeBufferPointer<UInt64>, count: Int, width: Int) -> [UInt16] {
        precondition((1...16).contains(width) && words.count >= wordCount(codes: count, width: width))
        let mask = (UInt64(1) << width) - 1
        return (0..<count).map { i in
            let bit = i * width
            let (w, o) = (bit / 64, bit % 64)
            var v = words[w] >> o
            if o + width > 64 { v |= words[w + 1] << (64 - o) }
            return UInt16(v & mask)
        }
    }
}
