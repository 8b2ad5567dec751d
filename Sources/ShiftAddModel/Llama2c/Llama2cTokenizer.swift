import Foundation
import ShiftAddTokenizer

/// llama2.c's tokenizer.bin: an int32 maximum token length, then per token a float32 score, an
/// int32 byte length and the piece's bytes. Its exporter writes SentencePiece pieces with `▁`
/// turned into a space and the bos/eos pieces wrapped in newlines; reading undoes both so the spec
/// matches a GGUF `llama` vocabulary.
enum Llama2cTokenizer {
    static let unknown = 0, bos = 1, eos = 2

    static func read(path: String, vocabSize: Int) throws -> TokenizerSpec {
        let file = try MappedFile(path: path)
        func malformed(_ reason: String) -> ModelError { .malformed(file: path, reason: reason) }
        guard vocabSize > eos else { throw malformed("a vocabulary of \(vocabSize) has no room for <unk>, <s>, </s>") }
        var offset = 0
        func int32(_ what: String) throws -> Int {
            let bytes = try file.bytes(at: offset, count: 4, what: what)
            offset += 4
            return Int(Int32(littleEndian: bytes.loadUnaligned(as: Int32.self)))
        }
        let maxLength = try int32("max token length")
        guard maxLength > 0 else { throw malformed("max token length \(maxLength) is not positive") }

        var tokens: [String] = []
        var scores: [Float] = []
        var types: [TokenizerSpec.TokenType] = []
        tokens.reserveCapacity(vocabSize)
        for id in 0..<vocabSize {
            let scoreBytes = try file.bytes(at: offset, count: 4, what: "score of token \(id)")
            let score = Float(bitPattern: UInt32(littleEndian: scoreBytes.loadUnaligned(as: UInt32.self)))
            offset += 4
            guard score.isFinite else { throw malformed("token \(id) has score \(score)") }
            let length = try int32("length of token \(id)")
            guard (1...maxLength).contains(length) else {
                throw malformed("token \(id) has length \(length), outside 1...\(maxLength)")
            }
            let bytes = try file.bytes(at: offset, count: length, what: "bytes of token \(id)")
            offset += length
            guard let piece = String(validating: bytes, as: UTF8.self) else {
                throw malformed("token \(id) is not valid UTF-8")
            }
            let (token, type) = classify(id: id, piece: piece)
            tokens.append(token)
            scores.append(score)
            types.append(type)
        }
        guard offset == file.count else {
            throw malformed("\(file.count - offset) bytes follow the \(vocabSize) tokens the model's vocabulary holds")
        }
        return TokenizerSpec(model: .sentencePiece, tokens: tokens, scores: scores, tokenTypes: types,
                             bosTokenId: bos, eosTokenId: eos, unknownTokenId: unknown,
                             addBosToken: true, addSpacePrefix: true)
    }

    /// The SentencePiece form of a llama2.c piece and its token type.
    static func classify(id: Int, piece: String) -> (String, TokenizerSpec.TokenType) {
        switch id {
        case unknown: return ("<unk>", .unknown)
        case bos: return ("<s>", .control)
        case eos: return ("</s>", .control)
        default: break
        }
        if isByteToken(piece) { return (piece, .byte) }
        return (piece.replacingOccurrences(of: " ", with: "\u{2581}"), .normal)
    }

    /// `<0xHH>`: SentencePiece's byte-fallback pieces.
    static func isByteToken(_ piece: String) -> Bool {
        let u = Array(piece.utf8)
        return u.count == 6 && u.starts(with: Array("<0x".utf8)) && u[5] == UInt8(ascii: ">")
            && u[3...4].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) }
    }

    /// tokenizer.bin beside the model, else the one tok*.bin there (tok<vocab>.bin if several).
    static func locate(besideModel modelPath: String, vocabSize: Int) throws -> String? {
        let directory = SafetensorsLayout.parent(of: modelPath)
        let preferred = directory + "/tokenizer.bin"
        if FileManager.default.fileExists(atPath: preferred) { return preferred }
        let modelName = (modelPath as NSString).lastPathComponent
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: directory))?
            .filter { $0.hasPrefix("tok") && $0.hasSuffix(".bin") && $0 != modelName }.sorted() ?? []
        if candidates.count > 1 {
            guard candidates.contains("tok\(vocabSize).bin") else {
                throw ModelError.cannotOpen(file: preferred, reason: "absent, and several tokenizers lie beside the "
                                            + "model (\(candidates.joined(separator: ", "))); name one explicitly")
            }
            return directory + "/tok\(vocabSize).bin"
        }
        return candidates.first.map { directory + "/" + $0 }
    }
}
