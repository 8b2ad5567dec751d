/// The character classes the pre-tokenizer patterns use, as the reference regex engine (Oniguruma inside
/// Hugging Face `tokenizers`) defines them: `\p{L}` and `\p{N}` are the Unicode general categories L* and
/// N*, `\s` is the White_Space property.
enum ScalarClass: UInt8, Sendable {
    case letter, number, whitespace, other

    init(_ scalar: Unicode.Scalar) {
        if scalar.value < 0x80 {
            self = asciiClasses[Int(scalar.value)]
            return
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = Self.isKnownToPatternEngine(properties) ? .letter : .other
        case .decimalNumber, .letterNumber, .otherNumber:
            self = Self.isKnownToPatternEngine(properties) ? .number : .other
        default:
            self = properties.isWhitespace ? .whitespace : .other
        }
    }

    /// The pattern engine's tables stop at Unicode 16.0, so letters and numbers assigned later are
    /// unassigned characters (neither L nor N) to it, while the standard library already knows them.
    private static func isKnownToPatternEngine(_ properties: Unicode.Scalar.Properties) -> Bool {
        guard let age = properties.age else { return false }
        return age.major <= 16
    }
}

extension Unicode.Scalar {
    /// Rust's `char::is_numeric` (general categories Nd, Nl, No, current Unicode), which the digit
    /// splitting pre-tokenizer uses.
    var isNumeric: Bool {
        if value < 0x80 { return (0x30...0x39).contains(value) }
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
}

/// ASCII is most of real text, so its classes come from a table instead of the property lookup.
private let asciiClasses: [ScalarClass] = (0..<128).map { value in
    switch value {
    case 0x09...0x0D, 0x20: .whitespace
    case 0x30...0x39: .number
    case 0x41...0x5A, 0x61...0x7A: .letter
    default: .other
    }
}
