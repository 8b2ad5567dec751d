/// The id that ties a response to its log lines: the client's `X-Request-Id` when it is a short run
/// of safe characters, else a fresh random one.
enum RequestID {
    static let maxLength = 128

    static func make(clientValue: String?) -> String {
        if let value = clientValue, isSane(value) { return value }
        return random()
    }

    /// Letters, digits and `-_.:/+=@`, 1 to 128 of them: safe in headers, logs and JSON alike.
    static func isSane(_ value: String) -> Bool {
        guard (1...maxLength).contains(value.utf8.count) else { return false }
        return value.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || "-_.:/+=@".utf8.contains(c)
        }
    }

    /// 128 random bits in hex.
    static func random() -> String { hex(UInt64.random(in: .min ... .max)) + hex(UInt64.random(in: .min ... .max)) }

    static func hex(_ x: UInt64) -> String {
        let s = String(x, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
