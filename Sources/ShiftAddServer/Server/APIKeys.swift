/// The configured API keys and the check of a request's credentials against them.
struct APIKeys: Sendable {
    private let keys: [[UInt8]]

    init(_ keys: [String]) { self.keys = keys.filter { !$0.isEmpty }.map { Array($0.utf8) } }

    var enabled: Bool { !keys.isEmpty }

    /// The key a request presents: `Authorization: Bearer KEY` or `X-Api-Key: KEY`.
    static func presented(authorization: String?, apiKeyHeader: String?) -> String? {
        if let value = authorization {
            let trimmed = value.drop { $0 == " " }
            if trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " {
                return String(trimmed.dropFirst(7).drop { $0 == " " })
            }
        }
        return apiKeyHeader
    }

    /// Compares against every key without stopping early, each in time that depends only on the
    /// configured key's length, so timing tells nothing about how much of a guess was right.
    func accepts(_ presented: String) -> Bool {
        let candidate = Array(presented.utf8)
        var accepted = false
        for key in keys { accepted = Self.equal(candidate, key) || accepted }
        return accepted
    }

    static func equal(_ candidate: [UInt8], _ key: [UInt8]) -> Bool {
        var diff: UInt8 = candidate.count == key.count ? 0 : 1
        for i in key.indices { diff |= key[i] ^ (i < candidate.count ? candidate[i] : 0) }
        return diff == 0
    }
}
