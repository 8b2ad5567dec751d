import Foundation
import ShiftAddBundle
import ShiftAddModel
import ShiftAddTestSupport
import ShiftAddTokenizer
import Testing

@Suite struct BundleTests {
    static func sampleWriter() -> BundleWriter {
        let config = ModelConfig(architecture: "llama", vocabSize: 8, dim: 4, hiddenDim: 8, layerCount: 1, headCount: 2,
                                 kvHeadCount: 1, contextLength: 32, ropeTheta: 10000, ropeStyle: .interleaved,
                                 rmsNormEpsilon: 1e-5, tiedEmbeddings: true)
        let quant = BundleQuantization(groupSize: 64, apotTerms: 3,
                                       rotation: .init(kind: "hadamard", block: 64, seed: 7),
                                       planeLayout: "bcq-planes-v1", scaleCode: "apot-v1",
                                       layers: [BundleLayer(name: "blk.0.attn_q", bits: 3, rows: 4, cols: 4, hasOffset: true)])
        let manifest = BundleManifest(config: config, tokenizer: TokenizerSpec(model: .byteLevelBPE, preTokenizer: "gpt2", tokens: ["a", "b"]),
                                      chatTemplate: "{{ x }}", metadata: ["general.name": "t"], quantization: quant,
                                      provenance: .init(sourceFile: "m.gguf", sourceSHA256: "00", converterVersion: "1", options: ["bits": "3"]))
        var w = BundleWriter(manifest: manifest)
        w.add("norm", f32: [1, 2, 3, 4.5], shape: [4])
        w.add("embed", f16: (0..<32).map { Float($0) / 4 }, shape: [8, 4])
        w.add("planes", u64: [0xDEAD_BEEF, 1, 2, .max, 5, 6], shape: [3, 2])
        return w
    }

    @Test func roundTripIsBitExact() throws {
        let w = Self.sampleWriter()
        let path = temporaryPath("round.sabundle")
        try w.write(to: path)
        #expect(!FileManager.default.fileExists(atPath: BundleWriter.temporaryPath(for: path)))
        let b = try WeightBundle(path: path)
        #expect(b.manifest == w.manifest)
        #expect(try b.floats("norm", shape: [4]) == [1, 2, 3, 4.5])
        #expect(try b.floats("embed", shape: [8, 4]) == (0..<32).map { Float($0) / 4 })
        #expect(try b.u64("planes", shape: [3, 2]) == [0xDEAD_BEEF, 1, 2, .max, 5, 6])
        for e in b.manifest.tensors { #expect(e.offset % 64 == 0) }
        // Writing the same content twice gives identical bytes.
        #expect(try w.serialized() == Array(Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(throws: BundleError.self) { try b.floats("norm", shape: [5]) }
        #expect(throws: BundleError.missingTensor(file: path, tensor: "nope")) { try b.floats("nope", shape: [1]) }
    }

    func expectRejected(_ bytes: [UInt8], _ check: (BundleError) -> Bool, _ label: String) throws {
        let path = temporaryPath("bad.sabundle")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try WeightBundle(path: path)
            Issue.record("\(label): accepted")
        } catch let e as BundleError {
            #expect(check(e), "\(label): \(e)")
            #expect(e.description.contains(path))
        }
    }

    @Test func rejectsTruncationAtSeveralOffsets() throws {
        let bytes = try Self.sampleWriter().serialized()
        for cut in [0, 5, 40, 63, 100, bytes.count - 70, bytes.count - 1] {
            try expectRejected(Array(bytes[0..<cut]), { e in
                switch e {
                case .truncated, .badMagic: return true
                default: return false
                }
            }, "cut at \(cut)")
        }
    }

    @Test func rejectsFlippedBytesWithTheirSpecificError() throws {
        let bytes = try Self.sampleWriter().serialized()
        func flipped(_ i: Int) -> [UInt8] { var b = bytes; b[i] ^= 0x40; return b }
        try expectRejected(flipped(2), { $0 == .badMagic(file: $0.fileName) }, "magic")
        try expectRejected(flipped(13), { if case .headerCorrupt = $0 { true } else { false } }, "header size")
        try expectRejected(flipped(40), { if case .manifestChecksumMismatch = $0 { true } else { false } }, "checksum field")
        try expectRejected(flipped(64 + 20), { if case .manifestChecksumMismatch = $0 { true } else { false } }, "manifest")
        let b = try WeightBundle(path: { let p = temporaryPath("ok.sabundle"); try Self.sampleWriter().write(to: p); return p }())
        let planes = b.manifest.tensors.first { $0.name == "planes" }!
        let dataStart = bytes.count - b.manifest.dataSize
        try expectRejected(flipped(dataStart + planes.offset + 3), {
            if case let .tensorChecksumMismatch(_, tensor, offset) = $0 { tensor == "planes" && offset == dataStart + planes.offset } else { false }
        }, "tensor data")
        try expectRejected(bytes + [0], { if case .headerCorrupt = $0 { true } else { false } }, "trailing byte")
    }

    /// Released tensors refuse to be read (their pages are gone); the others read as before.
    @Test func releasedTensorsAreRefusedAndTheRestStayIntact() throws {
        var w = Self.sampleWriter()
        let big = (0..<40_000).map { Float($0 % 1000) }
        w.add("big", f32: big, shape: [big.count])
        w.add("after", f32: [7, 8], shape: [2])
        let path = temporaryPath("release.sabundle")
        try w.write(to: path)
        let b = try WeightBundle(path: path)
        b.release(["big", "embed", "no such tensor"])
        b.release(["big"])
        #expect(throws: BundleError.tensorReleased(file: path, tensor: "big")) { try b.floats("big", shape: [big.count]) }
        #expect(throws: BundleError.tensorReleased(file: path, tensor: "embed")) { try b.floats("embed", shape: [8, 4]) }
        #expect(try b.floats("norm", shape: [4]) == [1, 2, 3, 4.5])
        #expect(try b.floats("after", shape: [2]) == [7, 8])
        #expect(try b.u64("planes", shape: [3, 2]) == [0xDEAD_BEEF, 1, 2, .max, 5, 6])
        #expect(BundleError.tensorReleased(file: "x", tensor: "big").description.contains("released"))
    }

    @Test func rejectsNewerVersions() throws {
        var bytes = try Self.sampleWriter().serialized()
        bytes[8] = 3
        try expectRejected(bytes, { $0 == .newerVersion(file: $0.fileName, version: 3, supported: 2) }, "version 3")
        let message = BundleError.newerVersion(file: "x", version: 3, supported: 2).description
        #expect(message.contains("newer"))
    }

    /// Version 1 kept the embedding in fp16: such a bundle is refused with both versions named and
    /// what to do, and the server's cache does not take it for a converted model.
    @Test func rejectsOlderVersionsNamingBoth() throws {
        var bytes = try Self.sampleWriter().serialized()
        bytes[8] = 1
        try expectRejected(bytes, { $0 == .olderVersion(file: $0.fileName, version: 1, supported: 2) }, "version 1")
        let message = BundleError.olderVersion(file: "x", version: 1, supported: 2).description
        #expect(message == "x: bundle format version 1 is older than this build reads (2); reconvert the checkpoint with shiftadd-convert")
        let path = temporaryPath("old.sabundle")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(WeightBundle.formatVersion(path: path) == 1)
        #expect(WeightBundle.formatVersion(path: temporaryPath("absent.sabundle")) == nil)
    }
}

extension BundleError {
    var fileName: String {
        switch self {
        case let .cannotOpen(f, _), let .badMagic(f), let .newerVersion(f, _, _), let .olderVersion(f, _, _), let .truncated(f, _, _, _),
             let .headerCorrupt(f, _), let .manifestChecksumMismatch(f), let .manifestInvalid(f, _),
             let .tensorOutOfBounds(f, _), let .tensorChecksumMismatch(f, _, _), let .tensorInvalid(f, _, _),
             let .missingTensor(f, _), let .tensorReleased(f, _), let .writeFailed(f, _):
            return f
        }
    }
}

@Suite struct CodePackingTests {
    @Test(arguments: [1, 5, 10, 11, 13, 16])
    func packThenUnpackIsIdentity(width: Int) {
        var rng = TestRandom(seed: UInt64(width))
        let codes = (0..<1000).map { _ in UInt16(rng.next() & ((1 << width) - 1)) }
        let words = CodePacking.pack(codes, width: width)
        #expect(words.count == (1000 * width + 63) / 64)
        #expect(words.withUnsafeBufferPointer { CodePacking.unpack($0, count: codes.count, width: width) } == codes)
    }

    @Test func layoutIsLeastSignificantBitFirst() {
        let words = CodePacking.pack([0b101, 0b011, 0b111], width: 3)
        #expect(words == [0b111_011_101])
    }
}
