#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file. Readers keep offsets into it instead of copying
/// tensors; the mapping lives as long as any tensor record refers to it.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    /// Immutable after init; never written through.
    public let base: UnsafeRawPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ModelError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ModelError.cannotOpen(file: path, reason: "not a regular file") }
        count = Int(st.st_size)
        if count == 0 {
            // mmap rejects empty files; an empty buffer still lets readers report truncation.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if count == 0 { UnsafeMutableRawPointer(mutating: base).deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The bytes in `offset ..< offset + length`, or a truncation error naming `what`.
    public func bytes(at offset: Int, count length: Int, what: String) throws -> UnsafeRawBufferPointer {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw ModelError.truncated(file: path, what: what, needed: offset &+ length, available: count)
        }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }
}
