import Foundation
import ShiftAddModel

/// The default model fetched by `make model`; tests fail rather than skip without it.
public func defaultModelPath() throws -> String {
    let env = ProcessInfo.processInfo.environment
    let dir = env["SHIFTADD_MODEL_DIR"]
        ?? ((env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")) + "/shiftadd/models")
    let path = dir + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    guard FileManager.default.fileExists(atPath: path) else {
        throw ModelError.cannotOpen(file: path, reason: "default model missing: run `make model`")
    }
    return path
}
