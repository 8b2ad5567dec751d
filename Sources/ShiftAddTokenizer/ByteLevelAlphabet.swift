/// GPT-2's reversible byte ↔ character mapping: printable Latin-1 bytes stand for themselves and the
/// other 68 bytes (controls, space, DEL, NBSP, soft hyphen …) are shifted to U+0100 onwards, so every
/// byte-level token is printable text.
enum ByteLevelAlphabet {
    /// Character standing for each byte value.
    static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var shifted: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(shifted)!
                shifted += 1
            }
        }
        return table
    }()

    /// Byte each alphabet character stands for.
    static let bytes: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, character) in characters.enumerated() { map[character] = UInt8(byte) }
        return map
    }()

    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The bytes a token's text stands for, or nil when it has a character outside the alphabet.
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            guard let byte = bytes[scalar] else { return nil }
            out.append(byte)
        }
        return out
    }
}
