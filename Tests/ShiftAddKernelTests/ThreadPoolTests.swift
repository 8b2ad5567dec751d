import CShiftKernels
import Dispatch
import Testing

/// Adds 1 to counter[task] (each task owns its counter, so no two threads share one).
private let countTask: sa_task_fn = { ctx, task in
    ctx!.assumingMemoryBound(to: Int32.self)[Int(task)] += 1
}

@Suite struct ThreadPoolTests {
    @Test(arguments: 1...4)
    func everyTaskRunsExactlyOnce(threads: Int) throws {
        let pool = try #require(sa_threadpool_create(Int32(threads), nil))
        defer { sa_threadpool_free(pool) }
        #expect(sa_threadpool_size(pool) == Int32(threads))
        for n in [0, 1, 2, 3, 7, 64, 1000, Int(SA_THREADPOOL_MAX_TASKS)] {
            var counts = [Int32](repeating: 0, count: max(n, 1))
            let status = counts.withUnsafeMutableBufferPointer { sa_threadpool_run(pool, Int32(n), countTask, $0.baseAddress) }
            #expect(status == SA_OK.rawValue)
            #expect(counts[0..<n].allSatisfy { $0 == 1 }, "\(n) tasks on \(threads) threads")
        }
    }

    /// Many short batches back to back, as a decoder issues them.
    @Test func consecutiveBatchesDoNotLoseOrRepeatTasks() throws {
        let pool = try #require(sa_threadpool_create(2, nil))
        defer { sa_threadpool_free(pool) }
        var counts = [Int32](repeating: 0, count: 5)
        for _ in 0..<20_000 {
            _ = counts.withUnsafeMutableBufferPointer { sa_threadpool_run(pool, 5, countTask, $0.baseAddress) }
        }
        #expect(counts == [Int32](repeating: 20_000, count: 5))
    }

    /// Runs issued from several threads at once are serialized, each seeing only its own tasks.
    @Test func concurrentCallersAreSerialized() throws {
        nonisolated(unsafe) let pool = try #require(sa_threadpool_create(3, nil))
        defer { sa_threadpool_free(pool) }
        let callers = 4, rounds = 500, tasks = 9
        let counts = UnsafeMutablePointer<Int32>.allocate(capacity: callers * tasks)
        counts.initialize(repeating: 0, count: callers * tasks)
        defer { counts.deallocate() }
        nonisolated(unsafe) let shared = counts
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<rounds {
                _ = sa_threadpool_run(pool, Int32(tasks), countTask, shared + caller * tasks)
            }
        }
        #expect(UnsafeBufferPointer(start: counts, count: callers * tasks).allSatisfy { $0 == Int32(rounds) })
    }

    @Test func badArgumentsAreRejected() throws {
        var err: Int32 = 0
        #expect(sa_threadpool_create(0, &err) == nil)
        #expect(err == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_threadpool_create(257, &err) == nil)
        #expect(err == SA_ERR_ARGUMENT.rawValue)
        let pool = try #require(sa_threadpool_create(2, &err))
        defer { sa_threadpool_free(pool) }
        #expect(err == SA_OK.rawValue)
        #expect(sa_threadpool_run(pool, -1, countTask, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_threadpool_run(pool, SA_THREADPOOL_MAX_TASKS + 1, countTask, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_threadpool_run(pool, 1, nil, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_threadpool_run(nil, 1, countTask, nil) == SA_ERR_ARGUMENT.rawValue)
        #expect(sa_threadpool_size(nil) == 0)
        sa_threadpool_free(nil)
    }
}
