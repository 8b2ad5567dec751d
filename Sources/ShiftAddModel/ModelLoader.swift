import Foundation
import ShiftAddTokenizer

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
        if try isGGUF(path) {
            return try GGUFReader.read(path: path)
        }
        if path.hasSuffix(".bin") {
            return try Llama2cReader.read(path: path, tokenizerPath: tokenizerPath)
        }
        throw ModelError.badMagic(file: path, found: "neither GGUF, safetensors nor a llama2.c .bin")
    }

    /// The tokenizer of any checkpoint `load` accepts; from a GGUF file without reading its
    /// architecture, so a model the engine cannot run yet can still be tokenized.
    public static func loadTokenizer(path: String, tokenizerPath: String? = nil) throws -> TokenizerSpec? {
        if try isGGUF(path) {
            return try GGUFReader.readTokenizer(path: path)
        }
        return try load(path: path, tokenizerPath: tokenizerPath).tokenizer
    }

    private static func isGGUF(_ path: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return false
        }
        let file = try MappedFile(path: path)
        return file.count >= 4 && Array(UnsafeRawBufferPointer(start: file.base, count: 4)) == Array("GGUF".utf8)
    }
}
