import Foundation

/// The memory this process may use: physical memory, or less when a cgroup (a container's memory
/// limit) caps it. Defaults sized from physical memory alone would overrun a container's limit and
/// get the process killed.
public enum MemoryLimit {
    /// cgroup v2, then v1; the first that names a number wins.
    static let cgroupFiles = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]

    /// For this process, from `ProcessInfo` and the cgroup files.
    public static var current: Int {
        effective(physical: Int(clamping: ProcessInfo.processInfo.physicalMemory),
                  cgroupLimits: cgroupFiles.map { try? String(contentsOfFile: $0, encoding: .utf8) })
    }

    /// `physical`, or the smallest cgroup limit below it. A limit file holds a byte count, or "max"
    /// (v2) or a huge number (v1) for none; unreadable files (nil) and other text are ignored.
    public static func effective(physical: Int, cgroupLimits: [String?]) -> Int {
        let limits = cgroupLimits.compactMap { $0.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        return limits.filter { $0 > 0 }.reduce(physical) { min($0, $1) }
    }
}
