import ShiftAddChatTemplate

/// Renders `source` with one user message and no special tokens.
func render(
    _ source: String, messages: [ChatMessage] = [ChatMessage(role: "user", content: "hi")],
    addGenerationPrompt: Bool = false, variables: [String: TemplateValue] = [:],
    limits: RenderLimits = RenderLimits()
) throws -> String {
    try ChatTemplate(source: source, limits: limits).render(
        messages: messages, addGenerationPrompt: addGenerationPrompt, variables: variables)
}

/// The `TemplateError` that parsing or rendering `source` throws, or nil if it succeeds.
func failure(
    _ source: String, variables: [String: TemplateValue] = [:], limits: RenderLimits = RenderLimits()
) -> TemplateError? {
    do {
        _ = try render(source, variables: variables, limits: limits)
        return nil
    } catch let error as TemplateError {
        return error
    } catch {
        return TemplateError(kind: .runtime, message: "unexpected error type: \(error)")
    }
}
