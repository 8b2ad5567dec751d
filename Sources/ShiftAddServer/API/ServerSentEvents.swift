/// Server-sent events framing as OpenAI streams it: one `data:` line per event, a blank line after
/// each, `data: [DONE]` at the end, and comment lines to keep idle connections open.
public enum ServerSentEvents {
    public static let headers: [(String, String)] = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("x-accel-buffering", "no"),
    ]

    /// One event carrying a JSON value. JSON text has no raw newlines, so one `data:` line holds it.
    public static func event(_ value: JSONValue) -> [UInt8] {
        Array("data: ".utf8) + value.serialized() + Array("\n\n".utf8)
    }

    public static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)

    public static let keepAlive: [UInt8] = Array(": keep-alive\n\n".utf8)
}
