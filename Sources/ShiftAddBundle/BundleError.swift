/// Why a bundle was refused. Each case says where in the file the problem is.
public enum BundleError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    case badMagic(file: String)
    case newerVersion(file: String, version: Int, supported: Int)
    case olderVersion(file: String, version: Int, supported: Int)
    case truncated(file: String, what: String, expectedBytes: Int, actualBytes: Int)
    case headerCorrupt(file: String, reason: String)
    case manifestChecksumMismatch(file: String)
    case manifestInvalid(file: String, reason: String)
    case tensorOutOfBounds(file: String, tensor: String)
    case tensorChecksumMismatch(file: String, tensor: String, offset: Int)
    case tensorInvalid(file: String, tensor: String, reason: String)
    case missingTensor(file: String, tensor: String)
    case tensorReleased(file: String, tensor: String)
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(f, r): return "\(f): cannot open bundle: \(r)"
        case let .badMagic(f): return "\(f): not a ShiftAdd bundle (bad magic at offset 0)"
        case let .newerVersion(f, v, s):
            return "\(f): bundle format version \(v) is newer than this build supports (\(s)); upgrade shiftadd or reconvert"
        case let .olderVersion(f, v, s):
            return "\(f): bundle format version \(v) is older than this build reads (\(s)); reconvert the checkpoint with shiftadd-convert"
        case let .truncated(f, what, e, a): return "\(f): truncated: \(what) needs \(e) bytes, file has \(a)"
        case let .headerCorrupt(f, r): return "\(f): corrupt header: \(r)"
        case let .manifestChecksumMismatch(f): return "\(f): manifest checksum mismatch (manifest bytes corrupted)"
        case let .manifestInvalid(f, r): return "\(f): invalid manifest: \(r)"
        case let .tensorOutOfBounds(f, t): return "\(f): tensor '\(t)' lies outside the file"
        case let .tensorChecksumMismatch(f, t, o): return "\(f): tensor '\(t)' at offset \(o) fails its checksum (data corrupted)"
        case let .tensorInvalid(f, t, r): return "\(f): tensor '\(t)': \(r)"
        case let .missingTensor(f, t): return "\(f): missing tensor '\(t)'"
        case let .tensorReleased(f, t): return "\(f): tensor '\(t)' was released after loading"
        case let .writeFailed(f, r): return "\(f): cannot write bundle: \(r)"
        }
    }
}
