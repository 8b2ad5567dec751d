import COpenBLAS
import Synchronization

/// The size of OpenBLAS's thread pool, set once per process. OpenBLAS reallocates its buffers when
/// the count changes, which is unsafe while another thread is inside a BLAS call, so the count is
/// fixed before any model runs and later requests for a different count are refused.
public enum BLASThreads {
    private static let configured = Mutex<Int?>(nil)

    /// The count in force: the configured one, or OpenBLAS's own default (one per core).
    public static var count: Int {
        configured.withLock { $0 } ?? Int(openblas_get_num_threads())
    }

    /// Sets the thread count if none was set yet; returns the count in force.
    @discardableResult
    public static func configure(_ count: Int) -> Int {
        configured.withLock { current in
            if let current { return current }
            let n = max(1, count)
            openblas_set_num_threads(Int32(n))
            current = n
            return n
        }
    }
}
