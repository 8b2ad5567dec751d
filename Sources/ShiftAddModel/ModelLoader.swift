/// Opens any checkpoint the readers accept, choosing the reader by what the path holds.
public enum ModelLoader {
    public static func load(path: String, tokenizerPath: String? = nil) throws -> ModelDescription {
        let file = try MappedFile(path: path)
        if file.count >= 4, Array(UnsafeRawBufferPointer(start: file.base, count: 4)) == Array("GGUF".utf8) {
            return try GGUFReader.read(path: path)
        }
        throw ModelError.badMagic(file: path, found: "not a GGUF file")
    }
}
