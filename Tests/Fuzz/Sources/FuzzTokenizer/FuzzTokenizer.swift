import FuzzSupport
import ShiftAddModel
import ShiftAddTokenizer

#if canImport(Glibc)
import Glibc
#endif

/// Input: one flag byte, then text. Flag bits: 1 the small SentencePiece vocabulary with byte
/// fallback instead of the default model's byte-level BPE, 2 `addSpecial`, 4 `parseSpecial`, 8 read
/// the text's bytes as token ids (two bytes each) and decode them instead, 16 `skipSpecial` then.
/// Every id must be in the vocabulary, and byte-level BPE must give the text back exactly, less the
/// bytes the vocabulary has no token for (SmolLM2 lacks 21 of them; like Hugging Face `tokenizers`
/// without an unknown token, the encoder drops them).
private let byteLevel: Tokenizer = {
    let directory = getenv("SHIFTADD_MODEL_DIR").map { String(cString: $0) } ?? ""
    let path = directory + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    do {
        guard let spec = try GGUFReader.read(path: path).tokenizer else { fatalError("\(path) describes no tokenizer") }
        return try Tokenizer(spec: spec)
    } catch {
        fatalError("cannot load the default model's tokenizer (run `make model`): \(error)")
    }
}()

/// Whether each byte has a token of its own: GPT-2's byte alphabet maps printable Latin-1 bytes to
/// themselves and the others, in order, to U+0100 onwards.
private let byteHasToken: [Bool] = {
    var next: UInt32 = 256
    return (0..<256).map { (byte: Int) -> Bool in
        let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
        var scalar = UInt32(byte)
        if !printable {
            scalar = next
            next += 1
        }
        return byteLevel.tokenId(for: String(Character(Unicode.Scalar(scalar)!))) != nil
    }
}()

private let hexDigits = Array("0123456789ABCDEF")

/// Characters, a few merges by score, the 256 byte tokens and the special tokens.
private let sentencePiece: Tokenizer = {
    var tokens = ["<unk>", "<s>", "</s>"]
    var types: [TokenizerSpec.TokenType] = [.unknown, .control, .control]
    var scores: [Float] = [0, 0, 0]
    for byte in 0..<256 {
        tokens.append("<0x\(hexDigits[byte >> 4])\(hexDigits[byte & 15])>")
        types.append(.byte)
        scores.append(0)
    }
    let pieces = ["▁", "e", "t", "a", "o", "n", "h", "l", "▁t", "he", "▁the", "▁a", "an", "ll", "o▁", "é", "日本"]
    for (i, piece) in pieces.enumerated() {
        tokens.append(piece)
        types.append(.normal)
        scores.append(-Float(i))
    }
    tokens.append("<|user|>")
    types.append(.userDefined)
    scores.append(0)
    let spec = TokenizerSpec(model: .sentencePiece, tokens: tokens, scores: scores, tokenTypes: types,
                             bosTokenId: 1, eosTokenId: 2, unknownTokenId: 0, addBosToken: true,
                             addEosToken: false, addSpacePrefix: true)
    do { return try Tokenizer(spec: spec) } catch { fatalError("small SentencePiece vocabulary: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    guard let flags = bytes.first else { return 0 }
    let payload = bytes.dropFirst()
    let useByteLevel = flags & 1 == 0
    let tokenizer = useByteLevel ? byteLevel : sentencePiece
    let addSpecial = flags & 2 != 0, parseSpecial = flags & 4 != 0
    if flags & 8 != 0 {
        var ids: [Int] = []
        var i = payload.startIndex
        while i + 1 < payload.endIndex {
            ids.append(Int(payload[i]) << 8 | Int(payload[i + 1]))
            i += 2
        }
        let text = tokenizer.decode(ids, skipSpecial: flags & 16 != 0)
        let streamed = ids.flatMap { tokenizer.tokenBytes($0, renderSpecial: flags & 16 == 0) }
        if !useByteLevel { return 0 }
        Fuzz.check(text == String(decoding: streamed, as: UTF8.self), "decode and tokenBytes disagree for \(ids)")
        return 0
    }
    let text = String(decoding: payload, as: UTF8.self)
    let ids = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
    Fuzz.check(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "id out of range for \(Array(payload))")
    let decoded = tokenizer.decode(ids)
    if useByteLevel, !addSpecial, !parseSpecial {
        let expected = String(decoding: text.utf8.filter { byteHasToken[Int($0)] }, as: UTF8.self)
        Fuzz.check(decoded == expected, "byte-level round trip changed \(Array(payload)) into \(Array(decoded.utf8))")
    }
    return 0
}
