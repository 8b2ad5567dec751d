import Foundation
import ShiftAddModel
import ShiftAddTestSupport
import Testing

@Suite struct ModelLoaderTests {
    @Test func choosesTheReaderByContent() throws {
        let gguf = temporaryPath("tiny.gguf")
        try GGUFBuilder.tinyModel().write(to: gguf)
        #expect(try ModelLoader.load(path: gguf).format == .gguf)
        // The GGUF magic wins over the extension.
        let renamed = temporaryPath("tiny.bin")
        try FileManager.default.copyItem(atPath: gguf, toPath: renamed)
        #expect(try ModelLoader.load(path: renamed).format == .gguf)
    }

    @Test func namesWhatItCannotRead() throws {
        let other = temporaryPath("notes.txt")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: other))
        #expect(throws: ModelError.badMagic(file: other, found: "neither GGUF, safetensors nor a llama2.c .bin")) {
            try ModelLoader.load(path: other)
        }
        let missing = temporaryPath("missing.gguf")
        #expect(throws: ModelError.cannotOpen(file: missing, reason: "no such file or directory")) { try ModelLoader.load(path: missing) }
        let emptyDir = temporaryPath("empty-dir")
        try FileManager.default.createDirectory(atPath: emptyDir, withIntermediateDirectories: true)
        #expect(throws: ModelError.self) { try ModelLoader.load(path: emptyDir) }
    }
}
