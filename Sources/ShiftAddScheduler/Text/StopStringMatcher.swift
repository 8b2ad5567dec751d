/// Finds the first stop string in a growing text, holding back the tail that could still turn into
/// one. Works on UTF-8 bytes of valid text: a valid stop string can only match, or start to match, at
/// a character boundary, so every piece it releases is valid UTF-8 too.
struct StopStringMatcher: Sendable {
    /// Non-empty stop strings, in the order given, without duplicates.
    private let stops: [[UInt8]]
    private var held: [UInt8] = []
    /// The stop string found, once found; at equal positions the one listed first.
    private(set) var matched: String?

    init(_ stops: [String]) {
        var seen = Set<String>()
        self.stops = stops.filter { !$0.isEmpty && seen.insert($0).inserted }.map { Array($0.utf8) }
    }

    /// Adds `text` and returns what can be released: everything up to the first position where a stop
    /// string starts, or may start once more text arrives. After a match, returns only the text before it
    /// and releases nothing more.
    mutating func append(_ text: String) -> String {
        guard matched == nil else { return "" }
        guard !stops.isEmpty else { return text }
        held.append(contentsOf: text.utf8)
        for start in held.indices {
            if let stop = stops.first(where: { matches($0, at: start) }) {
                matched = String(decoding: stop, as: UTF8.self)
                defer { held.removeAll() }
                return String(decoding: held[..<start], as: UTF8.self)
            }
        }
        let keep = held.indices.first { start in stops.contains { startsPartially($0, at: start) } } ?? held.count
        defer { held.removeFirst(keep) }
        return String(decoding: held[..<keep], as: UTF8.self)
    }

    /// At the end of the text nothing more can complete a stop string: releases what is held.
    mutating func flush() -> String {
        defer { held.removeAll() }
        return String(decoding: held, as: UTF8.self)
    }

    private func matches(_ stop: [UInt8], at start: Int) -> Bool {
        held.count - start >= stop.count && held[start..<start + stop.count].elementsEqual(stop)
    }

    /// The held text from `start` on is a proper beginning of `stop`.
    private func startsPartially(_ stop: [UInt8], at start: Int) -> Bool {
        held.count - start < stop.count && stop.starts(with: held[start...])
    }
}
