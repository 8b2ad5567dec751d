import CShiftKernels
import Foundation
import ShiftAddModel
import Synchronization

/// A validated bundle held in private memory. Loading reads the whole file (rather than mapping
/// it) so that a file truncated or rewritten while the server runs cannot fault the process; every
/// size, offset and checksum is checked before any tensor is handed out. An engine that has copied
/// tensors into its own layout releases them (`release`), handing their memory back.
public final class WeightBundle: @unchecked Sendable {
    public let path: String
    public let manifest: BundleManifest
    /// Page-aligned anonymous mapping holding a copy of the file; written only by init and by
    /// `release`, which drops whole pages of released tensors.
    private let storage: UnsafeMutableRawPointer
    private let mappedBytes: Int
    private let size: Int
    private let dataStart: Int
    private let entries: [String: BundleTensorEntry]
    private let released = Mutex<Set<String>>([])

    public init(path: String, verifyChecksums: Bool = true) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BundleError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw BundleError.cannotOpen(file: path, reason: "not a regular file")
        }
        var size = Int(st.st_size)
        let mappedBytes = max(size, 1)
        guard let mapped = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else {
            throw BundleError.cannotOpen(file: path, reason: "cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        let storage = mapped
        var done = 0
        while done < size {
            let n = read(fd, storage + done, size - done)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        size = done
        // Validate before any stored property but `path` is set: a throw from a fully initialized
        // instance would run deinit and free `storage` a second time.
        let header: (manifest: BundleManifest, dataStart: Int)
        let entries: [String: BundleTensorEntry]
        do {
            header = try Self.parseHeader(storage, size: size, path: path)
            entries = try Self.validateTensors(header.manifest, dataStart: header.dataStart, size: size, path: path)
            if verifyChecksums {
                for e in header.manifest.tensors {
                    let bytes = UnsafeRawBufferPointer(start: storage + header.dataStart + e.offset, count: e.length)
                    guard Digest.hex(Digest.sha256(bytes)) == e.sha256 else {
                        throw BundleError.tensorChecksumMismatch(file: path, tensor: e.name, offset: header.dataStart + e.offset)
                    }
                }
            }
        } catch {
            munmap(storage, mappedBytes)
            throw error
        }
        self.storage = storage
        self.mappedBytes = mappedBytes
        self.size = size
        manifest = header.manifest
        dataStart = header.dataStart
        self.entries = entries
    }

    deinit { munmap(storage, mappedBytes) }

    /// Hands the memory of these tensors back to the system (the whole pages inside each); later
    /// reads of them throw `tensorReleased`. For engines that keep their own copies, so a loaded
    /// model does not hold the same weights twice.
    public func release(_ names: some Sequence<String>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        released.withLock { released in
            for name in names {
                guard let e = entries[name], released.insert(name).inserted else { continue }
                let start = dataStart + e.offset, end = start + e.length
                let first = (start + page - 1) / page * page, last = end / page * page
                if last > first { madvise(storage + first, last - first, MADV_DONTNEED) }
            }
        }
    }

    public var fileSize: Int { size }

    private static func parseHeader(_ base: UnsafeMutableRawPointer, size: Int, path: String) throws -> (manifest: BundleManifest, dataStart: Int) {
        guard size >= BundleFormat.magic.count,
              Array(UnsafeRawBufferPointer(start: base, count: BundleFormat.magic.count)) == BundleFormat.magic else {
            throw BundleError.badMagic(file: path)
        }
        guard size >= BundleFormat.headerSize else {
            throw BundleError.truncated(file: path, what: "header", expectedBytes: BundleFormat.headerSize, actualBytes: size)
        }
        func u32(_ o: Int) -> Int { Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self))) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        let version = u32(8)
        guard version >= 1 else { throw BundleError.headerCorrupt(file: path, reason: "format version \(version)") }
        guard version <= BundleFormat.version else {
            throw BundleError.newerVersion(file: path, version: version, supported: BundleFormat.version)
        }
        guard version == BundleFormat.version else {
            throw BundleError.olderVersion(file: path, version: version, supported: BundleFormat.version)
        }
        guard u32(12) == BundleFormat.headerSize, u64(16) == UInt64(BundleFormat.headerSize) else {
            throw BundleError.headerCorrupt(file: path, reason: "header size \(u32(12)) / manifest offset \(u64(16))")
        }
        let length = u64(24)
        guard length > 0, length <= UInt64(BundleFormat.maxManifestBytes) else {
            throw BundleError.headerCorrupt(file: path, reason: "manifest length \(length)")
        }
        let manifestEnd = BundleFormat.headerSize + Int(length)
        guard manifestEnd <= size else {
            throw BundleError.truncated(file: path, what: "manifest", expectedBytes: manifestEnd, actualBytes: size)
        }
        let json = UnsafeRawBufferPointer(start: base + BundleFormat.headerSize, count: Int(length))
        guard Digest.sha256(json) == Array(UnsafeRawBufferPointer(start: base + 32, count: 32)) else {
            throw BundleError.manifestChecksumMismatch(file: path)
        }
        let manifest: BundleManifest
        do {
            manifest = try JSONDecoder().decode(BundleManifest.self, from: Data(json))
        } catch {
            throw BundleError.manifestInvalid(file: path, reason: "\(error)")
        }
        guard manifest.formatVersion == version else {
            throw BundleError.manifestInvalid(file: path, reason: "manifest says version \(manifest.formatVersion), header \(version)")
        }
        return (manifest, BundleFormat.aligned(manifestEnd))
    }

    private static func validateTensors(_ m: BundleManifest, dataStart: Int, size: Int, path: String) throws -> [String: BundleTensorEntry] {
        guard m.dataSize >= 0, dataStart + m.dataSize <= size else {
            throw BundleError.truncated(file: path, what: "tensor data", expectedBytes: dataStart + max(m.dataSize, 0), actualBytes: size)
        }
        guard dataStart + m.dataSize == size else {
            throw BundleError.headerCorrupt(file: path, reason: "\(size - dataStart - m.dataSize) unexpected bytes after the data section")
        }
        var entries: [String: BundleTensorEntry] = [:]
        for e in m.tensors {
            guard entries[e.name] == nil else { throw BundleError.tensorInvalid(file: path, tensor: e.name, reason: "listed twice") }
            guard e.offset >= 0, e.length >= 0, e.offset % BundleFormat.alignment == 0,
                  e.offset <= m.dataSize, e.length <= m.dataSize - e.offset else {
                throw BundleError.tensorOutOfBounds(file: path, tensor: e.name)
            }
            var elements = 1
            for d in e.shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard d > 0, !overflow else { throw BundleError.tensorInvalid(file: path, tensor: e.name, reason: "shape \(e.shape)") }
                elements = p
            }
            guard elements.multipliedReportingOverflow(by: e.dtype.size) == (e.length, false) else {
                throw BundleError.tensorInvalid(file: path, tensor: e.name, reason: "\(e.length) bytes for \(e.dtype) \(e.shape)")
            }
            entries[e.name] = e
        }
        return entries
    }

    public func has(_ name: String) -> Bool { entries[name] != nil }

    /// The raw bytes of a tensor after checking its type and shape.
    public func bytes(_ name: String, dtype: BundleDType, shape: [Int]? = nil) throws -> UnsafeRawBufferPointer {
        guard let e = entries[name] else { throw BundleError.missingTensor(file: path, tensor: name) }
        guard !released.withLock({ $0.contains(name) }) else { throw BundleError.tensorReleased(file: path, tensor: name) }
        guard e.dtype == dtype else { throw BundleError.tensorInvalid(file: path, tensor: name, reason: "type \(e.dtype), expected \(dtype)") }
        if let shape, e.shape != shape {
            throw BundleError.tensorInvalid(file: path, tensor: name, reason: "shape \(e.shape), expected \(shape)")
        }
        return UnsafeRawBufferPointer(start: storage + dataStart + e.offset, count: e.length)
    }

    /// An f32 or f16 tensor as fp32 values.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let e = entries[name] else { throw BundleError.missingTensor(file: path, tensor: name) }
        let raw = try bytes(name, dtype: e.dtype, shape: shape)
        switch e.dtype {
        case .f32: return Array(raw.bindMemory(to: Float.self))
        case .f16: return raw.bindMemory(to: UInt16.self).map { sa_half_to_float($0) }
        default: throw BundleError.tensorInvalid(file: path, tensor: name, reason: "type \(e.dtype) is not a float type")
        }
    }

    public func u64(_ name: String, shape: [Int]) throws -> [UInt64] {
        Array(try bytes(name, dtype: .u64, shape: shape).bindMemory(to: UInt64.self))
    }
}

extension WeightBundle {
    /// Whether the file at `path` starts with the bundle magic.
    /// The format version in the header of the bundle at `path`, or nil when it is no bundle.
    public static func formatVersion(path: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 12), head.count == 12,
              Array(head.prefix(BundleFormat.magic.count)) == BundleFormat.magic else { return nil }
        return head.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    public static func isBundle(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: BundleFormat.magic.count)) ?? Data()
        return Array(head) == BundleFormat.magic
    }
}
