import FuzzSupport
import ShiftAddChatTemplate

/// Input: a template source, optionally followed by a NUL byte and JSON text given to the template
/// as `messages` (parsed with `TemplateValue(json:)`). Any error is fine; crashes, hangs and
/// unbounded memory are not.
private let conversation = [
    ChatMessage(role: "system", content: "You are terse."),
    ChatMessage(role: "user", content: "Hi <b>there</b> é"),
    ChatMessage(role: "assistant", content: "Hello."),
    ChatMessage(role: "user", content: "Again?"),
]

/// Far below the server's limits so that each input stays fast.
private let limits = RenderLimits(maxOutputBytes: 1 << 20, maxLoopIterations: 20_000, maxCallDepth: 40)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    let source = String(decoding: bytes[..<split], as: UTF8.self)
    var variables: [String: TemplateValue] = [:]
    if split < bytes.count {
        let json = String(decoding: bytes[(split + 1)...], as: UTF8.self)
        do {
            variables["messages"] = try TemplateValue(json: json)
        } catch {
            Fuzz.note("json: \(error)")
        }
    }
    let template: ChatTemplate
    do {
        template = try ChatTemplate(source: source, limits: limits)
    } catch {
        Fuzz.note("parse: \(error)")
        return 0
    }
    for addGenerationPrompt in [false, true] {
        do {
            let text = try template.render(messages: conversation, addGenerationPrompt: addGenerationPrompt,
                                           bosToken: "<s>", eosToken: "</s>", variables: variables)
            Fuzz.check(text.utf8.count <= limits.maxOutputBytes, "output of \(text.utf8.count) bytes passed the limit")
        } catch {
            Fuzz.note("render: \(error)")
        }
    }
    return 0
}
