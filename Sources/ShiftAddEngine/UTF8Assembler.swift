/// Turns a stream of token bytes into text pieces that are always whole UTF-8 characters: bytes of
/// an incomplete multi-byte character wait for the next token; invalid bytes become U+FFFD.
public struct UTF8Assembler: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Adds bytes and returns the text that is now complete.
    public mutating func append(_ bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let complete = pending.count - Self.incompleteSuffixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is left, decoded with replacement characters (call at the end of a stream).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of a trailing prefix of a multi-byte character that more bytes could still complete.
    static func incompleteSuffixLength(_ b: [UInt8]) -> Int {
        var i = b.count - 1
        var continuation = 0
        while i >= 0, continuation < 3, b[i] & 0xC0 == 0x80 {
            continuation += 1
            i -= 1
        }
        guard i >= 0 else { return 0 }
        let lead = b[i]
        let needed: Int
        switch lead {
        case 0xC2...0xDF: needed = 1
        case 0xE0...0xEF: needed = 2
        case 0xF0...0xF4: needed = 3
        default: return 0
        }
        return continuation < needed ? continuation + 1 : 0
    }
}
