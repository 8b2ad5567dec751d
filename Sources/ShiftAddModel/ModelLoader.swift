import Foundation

/// Opens any checkpoint the readers accept, choosing the reader by what the path holds:
/// a directory or `.safetensors` / `.index.json` file → safetensors; a file starting with the GGUF
/// magic → GGUF; any other `.bin` → llama2.c (with `tokenizerPath` or a tokenizer beside it).
public enum ModelLoader {
    public static func load(path: String, tokenizerPath: String? = nil) throws -> ModelDescription {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.cannotOpen(file: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue || path.hasSuffix(".safetensors") || path.hasSuffix(".index.json") {
            return try SafetensorsReader.read(path: path)
        }
        let file = try MappedFile(path: path)
        if file.count >= 4, Array(UnsafeRawBufferPointer(start: file.base, count: 4)) == Array("GGUF".utf8) {
            return try GGUFReader.read(path: path)
        }
        if path.hasSuffix(".bin") {
            return try Llama2cReader.read(path: path, tokenizerPath: tokenizerPath)
        }
        throw ModelError.badMagic(file: path, found: "neither GGUF, safetensors nor a llama2.c .bin")
    }
}
