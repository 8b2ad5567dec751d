/// Errors from reading checkpoints. Every case names the file and, where one is involved, the tensor.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    case badMagic(file: String, found: String)
    case unsupportedVersion(file: String, version: Int)
    case truncated(file: String, what: String, needed: Int, available: Int)
    case malformed(file: String, reason: String)
    case unsupportedTensorType(file: String, tensor: String, type: String)
    case missingTensor(file: String, tensor: String)
    case wrongShape(file: String, tensor: String, expected: [Int], found: [Int])
    case missingMetadata(file: String, key: String)
    case invalidConfig(file: String, reason: String)
    case unsupportedArchitecture(file: String, architecture: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): return "\(file): cannot open: \(reason)"
        case let .badMagic(file, found): return "\(file): not a recognised checkpoint (magic \(found))"
        case let .unsupportedVersion(file, version): return "\(file): unsupported format version \(version)"
        case let .truncated(file, what, needed, available):
            return "\(file): truncated: \(what) needs \(needed) bytes, file has \(available)"
        case let .malformed(file, reason): return "\(file): malformed: \(reason)"
        case let .unsupportedTensorType(file, tensor, type):
            return "\(file): tensor '\(tensor)' has unsupported type \(type)"
        case let .missingTensor(file, tensor): return "\(file): missing tensor '\(tensor)'"
        case let .wrongShape(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .missingMetadata(file, key): return "\(file): missing metadata '\(key)'"
        case let .invalidConfig(file, reason): return "\(file): invalid model configuration: \(reason)"
        case let .unsupportedArchitecture(file, architecture):
            return "\(file): unsupported architecture '\(architecture)'"
        }
    }
}
