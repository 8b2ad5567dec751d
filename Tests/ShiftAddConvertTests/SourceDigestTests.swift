import Foundation
import ShiftAddBundle
import ShiftAddConvert
import Testing

@Suite struct SourceDigestTests {
    private func digest(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { Digest.sha256Hex($0) } }

    private func directory() throws -> String {
        let path = NSTemporaryDirectory() + "source-digest-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aFileIsItsBytesDigest() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/model.gguf"
        try Data("weights".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try SourceDigest.sha256(path: file) == digest(Array("weights".utf8)))
        // "abc" is the standard SHA-256 test vector.
        try Data("abc".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try SourceDigest.sha256(path: file) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// A checkpoint directory digests like `sha256sum * | sha256sum`: files in name order, hidden
    /// files and subdirectories left out, and any change to a file changes it.
    @Test func aDirectoryIsTheDigestOfItsListing() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ["model.safetensors": "tensors", "config.json": "{}", "tokenizer.json": "vocab"]
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        try Data("ignored".utf8).write(to: URL(fileURLWithPath: dir + "/.hidden"))
        try FileManager.default.createDirectory(atPath: dir + "/nested", withIntermediateDirectories: false)
        let listing = ["config.json", "model.safetensors", "tokenizer.json"]
            .map { "\(digest(Array(files[$0]!.utf8)))  \($0)\n" }.joined()
        let whole = try SourceDigest.sha256(path: dir)
        #expect(whole == digest(Array(listing.utf8)))
        try Data("tensorz".utf8).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        #expect(try SourceDigest.sha256(path: dir) != whole)
    }
}
