import Foundation
import ShiftAddBundle
import ShiftAddModel

/// The checksum a bundle records of the checkpoint it came from (`provenance.sourceSHA256`).
public enum SourceDigest {
    /// A file's SHA-256. A directory (a safetensors checkpoint) has no bytes of its own: its digest
    /// is the SHA-256 of `sha256sum`-style lines, `<file digest>  <name>\n`, for its regular,
    /// non-hidden files in name order — what `cd DIR && sha256sum * | sha256sum` prints.
    public static func sha256(path: String) throws -> String {
        let files = FileManager.default
        guard files.isDirectory(atPath: path) else { return try file(path) }
        let names = try files.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted {
            Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
        }
        var listing = ""
        for name in names {
            let full = (path as NSString).appendingPathComponent(name)
            guard files.fileExists(atPath: full), !files.isDirectory(atPath: full) else { continue }
            listing += "\(try file(full))  \(name)\n"
        }
        return Array(listing.utf8).withUnsafeBytes { Digest.sha256Hex($0) }
    }

    private static func file(_ path: String) throws -> String {
        let mapped = try MappedFile(path: path)
        return Digest.sha256Hex(UnsafeRawBufferPointer(start: mapped.base, count: mapped.count))
    }
}
