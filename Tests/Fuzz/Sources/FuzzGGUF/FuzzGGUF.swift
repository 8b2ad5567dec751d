import FuzzSupport
import ShiftAddModel
import ShiftAddTokenizer

/// Input: a GGUF file. The raw reader and the model reader must refuse anything malformed with an
/// error; what they accept must decode (every tensor within the mapping) and, when it describes a
/// tokenizer, build one that encodes and decodes.
private let scratch = ScratchFile("gguf")
/// Tensors larger than this are not decoded, to keep each input fast.
private let maxDecodedElements = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.write(Fuzz.bytes(data, size))
    defer { scratch.remove() }
    do {
        let file = try GGUFFile(path: scratch.path)
        for tensor in file.tensors {
            Fuzz.check(tensor.offset >= 0 && tensor.byteCount <= file.file.count - tensor.offset,
                       "tensor \(tensor.name) outside the file")
            if tensor.elementCount <= maxDecodedElements { _ = tensor.floats() }
        }
    } catch {
        Fuzz.note("file: \(error)")
        return 0
    }
    do {
        let model = try GGUFReader.read(path: scratch.path)
        if let spec = model.tokenizer {
            let tokenizer = try Tokenizer(spec: spec)
            let ids = tokenizer.encode("Hello, world! <|im_start|> 123", addSpecial: true, parseSpecial: true)
            Fuzz.check(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "token id out of range")
            _ = tokenizer.decode(ids)
        }
        if let source = model.chatTemplate { Fuzz.note("template of \(source.utf8.count) bytes") }
    } catch {
        Fuzz.note("model: \(error)")
    }
    return 0
}
