import Foundation

/// Where a Hugging Face checkpoint's pieces are: the directory with config.json and the
/// safetensors files, each with the tensors the index assigns to it.
struct SafetensorsLayout {
    struct Shard {
        let path: String
        /// The tensors the index places in this file; nil (a lone file) means all of them.
        let names: Set<String>?
    }

    static let singleFile = "model.safetensors"
    static let indexFile = "model.safetensors.index.json"

    let directory: String
    let shards: [Shard]

    /// `path` is a checkpoint directory, a `.safetensors` file or a `.safetensors.index.json`.
    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.cannotOpen(file: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            directory = path
            let index = path + "/" + Self.indexFile
            let single = path + "/" + Self.singleFile
            if FileManager.default.fileExists(atPath: index) {
                shards = try Self.shards(index: index, directory: path)
            } else if FileManager.default.fileExists(atPath: single) {
                shards = [Shard(path: single, names: nil)]
            } else {
                throw ModelError.cannotOpen(file: single,
                                            reason: "\(path) holds neither \(Self.singleFile) nor \(Self.indexFile)")
            }
        } else {
            directory = Self.parent(of: path)
            shards = path.hasSuffix(".index.json")
                ? try Self.shards(index: path, directory: directory)
                : [Shard(path: path, names: nil)]
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The shard files an index names, each with its tensors, in file-name order.
    static func shards(index: String, directory: String) throws -> [Shard] {
        guard let map = try JSONValue.parse(path: index)["weight_map"]?.object else {
            throw ModelError.malformed(file: index, reason: "weight_map is missing or not an object")
        }
        var byFile: [String: Set<String>] = [:]
        for (tensor, value) in map {
            // Shards must sit beside the index: a name is a plain file name.
            guard let file = value.string, !file.isEmpty, file != ".", file != "..", !file.contains("/") else {
                throw ModelError.malformed(file: index, reason: "tensor '\(tensor)' maps to an invalid file name")
            }
            byFile[file, default: []].insert(tensor)
        }
        guard !byFile.isEmpty else { throw ModelError.malformed(file: index, reason: "weight_map is empty") }
        return byFile.keys.sorted().map { Shard(path: directory + "/" + $0, names: byFile[$0]) }
    }
}
