import Foundation

extension FileManager {
    /// True when `path` exists and is a directory (a safetensors checkpoint, for one).
    public func isDirectory(atPath path: String) -> Bool {
        var directory: ObjCBool = false
        return fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
