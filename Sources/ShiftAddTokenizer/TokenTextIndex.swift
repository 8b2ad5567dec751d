/// Token text → id, compared byte for byte: `String` equality treats canonically equivalent spellings
/// (precomposed vs. combining accents) as equal, but they are distinct tokens.
struct TokenTextIndex: Sendable {
    private let ids: [ArraySlice<UInt8>: Int]

    /// The first of duplicate spellings wins.
    init(_ tokens: [String], where include: (Int) -> Bool = { _ in true }) {
        var ids: [ArraySlice<UInt8>: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where include(id) {
            let key = Array(token.utf8)[...]
            if ids[key] == nil { ids[key] = id }
        }
        self.ids = ids
    }

    subscript(text: String) -> Int? { ids[Array(text.utf8)[...]] }

    subscript(bytes: ArraySlice<UInt8>) -> Int? { ids[bytes] }
}
