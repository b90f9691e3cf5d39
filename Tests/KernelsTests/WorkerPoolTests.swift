import Foundation
import XCTest
@testable import Kernels

/// The kernels' fork-join pool (`WorkerPool`, `mrc_pool_run`) against `DispatchQueue.concurrentPerform`, which
/// `parallelFor` falls back to: every chunk runs once per call with its own range, chunk i stays on one thread, and
/// nested or concurrent callers are refused by the pool and still get every chunk run.
final class WorkerPoolTests: XCTestCase {
    private var savedWorkers = 0

    override func setUp() {
        savedWorkers = Parallelism.workers
        Parallelism.workers = 2
    }

    override func tearDown() { Parallelism.workers = savedWorkers }

    /// A thread's identity, comparable across calls.
    private static func thread() -> UInt {
        #if os(Linux)
        UInt(pthread_self())
        #else
        UInt(bitPattern: pthread_self())
        #endif
    }

    func testEveryChunkRunsOnceWithItsRangeOverManyCalls() {
        XCTAssertGreaterThanOrEqual(WorkerPool.size, 2, "the pool did not start (MRC_POOL=0?)")
        let count = 1001
        let seen = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        defer { seen.deallocate() }
        // Thousands of back-to-back runs: a lost wake-up or a run that returns before its worker's chunk is done
        // shows as a hang or a missing count.
        for call in 0..<5000 {
            seen.initialize(repeating: 0, count: count)
            let out = SendablePointer(seen)
            parallelChunks(count: count, minimumWork: 1) { chunk, range in
                XCTAssertEqual(range, count * chunk / 2..<count * (chunk + 1) / 2)
                for i in range { out.pointer[i] += 1 }
            }
            if call % 1000 == 999 { usleep(1000) }  // let the worker fall asleep, then wake it
            XCTAssertTrue((0..<count).allSatisfy { seen[$0] == 1 }, "call \(call)")
        }
    }

    func testChunkZeroRunsOnTheCallerAndChunkOneAlwaysOnTheSameWorker() {
        XCTAssertGreaterThanOrEqual(WorkerPool.size, 2, "the pool did not start (MRC_POOL=0?)")
        let caller = Self.thread()
        var workers = Set<UInt>()
        let lock = NSLock()
        for _ in 0..<200 {
            parallelChunks(count: 2, minimumWork: 1) { chunk, _ in
                let me = Self.thread()
                if chunk == 0 { XCTAssertEqual(me, caller) } else { lock.lock(); workers.insert(me); lock.unlock() }
            }
        }
        XCTAssertEqual(workers.count, 1)
        XCTAssertFalse(workers.contains(caller))
    }

    func testNestedAndConcurrentCallersStillRunEveryChunk() {
        let total = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        total.initialize(repeating: 0, count: 4)
        defer { total.deallocate() }
        let out = SendablePointer(total)
        let lock = NSLock()
        // Nested: the inner call finds the pool busy with the outer one's chunks.
        parallelChunks(count: 2, minimumWork: 1) { outer, _ in
            parallelFor(count: 100, minimumWork: 1) { range in lock.lock(); out.pointer[outer] += range.count; lock.unlock() }
        }
        XCTAssertEqual(total[0], 100)
        XCTAssertEqual(total[1], 100)
        // Concurrent: two threads calling at once; one of them gets the pool, the other concurrentPerform.
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<500 {
                parallelFor(count: 64, minimumWork: 1) { range in lock.lock(); out.pointer[2 + caller] += range.count; lock.unlock() }
            }
        }
        XCTAssertEqual(total[2], 500 * 64)
        XCTAssertEqual(total[3], 500 * 64)
    }
}
