import Foundation
import CShiftKernels
import ShiftAddModel

/// Collects a bundle's tensors and writes the file atomically: everything goes to a temporary file
/// beside the output, which is synced and renamed into place only when complete, so an interrupted
/// or failed write (full disk, Ctrl-C) never leaves a partial bundle under the output name.
public struct BundleWriter {
    public var manifest: BundleManifest
    private var blobs: [[UInt8]] = []

    public init(manifest: BundleManifest) {
        self.manifest = manifest
        self.manifest.tensors = []
        self.manifest.dataSize = 0
    }

    public mutating func add(_ name: String, dtype: BundleDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "\(name): \(bytes.count) bytes for shape \(shape)")
        precondition(!manifest.tensors.contains { $0.name == name }, "duplicate tensor \(name)")
        let offset = BundleFormat.aligned(manifest.dataSize)
        let digest = bytes.withUnsafeBytes { Digest.hex(Digest.sha256($0)) }
        manifest.tensors.append(BundleTensorEntry(name: name, dtype: dtype, shape: shape, offset: offset,
                                                  length: bytes.count, sha256: digest))
        manifest.dataSize = BundleFormat.aligned(offset + bytes.count)
        blobs.append(bytes)
    }

    public mutating func add(_ name: String, f32 values: [Float], shape: [Int]) {
        add(name, dtype: .f32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public mutating func add(_ name: String, f16 values: [Float], shape: [Int]) {
        let halves = values.map { sa_float_to_half($0) }
        add(name, dtype: .f16, shape: shape, bytes: halves.withUnsafeBytes { Array($0) })
    }

    public mutating func add(_ name: String, u64 values: [UInt64], shape: [Int]) {
        add(name, dtype: .u64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    func manifestJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(manifest))
    }

    /// The complete file contents.
    public func serialized() throws -> [UInt8] {
        let json = try manifestJSON()
        var out = [UInt8]()
        let dataStart = BundleFormat.aligned(BundleFormat.headerSize + json.count)
        out.reserveCapacity(dataStart + manifest.dataSize)
        out += BundleFormat.magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        put(UInt32(BundleFormat.version))
        put(UInt32(BundleFormat.headerSize))
        put(UInt64(BundleFormat.headerSize))
        put(UInt64(json.count))
        out += json.withUnsafeBytes { Digest.sha256($0) }
        out += json
        out += [UInt8](repeating: 0, count: dataStart - out.count)
        for (entry, blob) in zip(manifest.tensors, blobs) {
            out += [UInt8](repeating: 0, count: dataStart + entry.offset - out.count)
            out += blob
        }
        out += [UInt8](repeating: 0, count: dataStart + manifest.dataSize - out.count)
        return out
    }

    /// Writes the bundle to `path` atomically (see the type's comment).
    public func write(to path: String) throws {
        let bytes = try serialized()
        let temporary = Self.temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BundleError.writeFailed(file: path, reason: String(cString: strerror(errno))) }
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                done += n
            }
            if fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw BundleError.writeFailed(file: path, reason: failure)
        }
    }

    /// Where `write(to:)` stages its output; a converter removes it when interrupted.
    public static func temporaryPath(for path: String) -> String { path + ".partial" }
}
