import ShiftAddConvert
import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// The converter handles the LLaMA family only, and says so naming the architecture.
@Suite struct ArchitectureRefusalTests {
    @Test func refusesGemma3NamingIt() throws {
        let path = temporaryPath("gemma3.gguf")
        try GGUFBuilder.tinyGemma3().write(to: path)
        let source = try GGUFReader.read(path: path)
        #expect(throws: ConversionError.unsupported("\(path): architecture 'gemma3' cannot be converted yet (only the LLaMA family)")) {
            try Converter(source: source, options: ConversionOptions())
        }
    }
}
