/// Why a `TokenizerSpec` cannot be turned into a working tokenizer.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyVocabulary
    case unknownPreTokenizer(String)
    case missingMerges
    case malformedMerge(index: Int, merge: String)
    case mergeTokenNotInVocabulary(index: Int, merge: String, token: String)
    case missingScores
    case countMismatch(field: String, expected: Int, found: Int)
    case tokenIdOutOfRange(role: String, id: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case .emptyVocabulary:
            "tokenizer vocabulary is empty"
        case .unknownPreTokenizer(let name):
            "unknown pre-tokenizer '\(name)' (supported: \(PreTokenizer.supportedNames.joined(separator: ", ")))"
        case .missingMerges:
            "byte-level BPE tokenizer has no merges"
        case .malformedMerge(let index, let merge):
            "merge #\(index) '\(merge)' is not two tokens separated by a space"
        case .mergeTokenNotInVocabulary(let index, let merge, let token):
            "merge #\(index) '\(merge)' uses '\(token)', which is not in the vocabulary"
        case .missingScores:
            "SentencePiece tokenizer has no token scores"
        case .countMismatch(let field, let expected, let found):
            "tokenizer \(field) has \(found) entries but the vocabulary has \(expected) tokens"
        case .tokenIdOutOfRange(let role, let id, let vocabularySize):
            "\(role) token id \(id) is outside the vocabulary (size \(vocabularySize))"
        }
    }
}
