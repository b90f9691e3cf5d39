import CKernels
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

    /// A pool larger than a run's chunks (a machine with more cores than a kernel has rows, say), runs of 2 and 4
    /// chunks in turn: a worker without a chunk in one run must not carry into the next. Before every worker answered
    /// every run, a 2-core machine gave about 100 chunks run twice and 10 missing in 200,000 such runs.
    func testAPoolLargerThanTheRunRunsEachChunkOnceWhenTheChunkCountsAlternate() {
        guard let pool = mrc_pool_create(4) else { return XCTFail("no pool of 4 threads") }
        final class Counts: @unchecked Sendable {
            var runs = [Int32](repeating: 0, count: 4)
            var afterReturn: Int32 = 0
            var returned = false
            let lock = NSLock()
        }
        let counts = Counts()
        var doubled = 0, missing = 0
        for call in 0..<20000 {
            let chunks = call % 2 == 0 ? 2 : 4
            counts.runs = [0, 0, 0, 0]
            counts.returned = false
            let ran = withExtendedLifetime(counts) {
                mrc_pool_run_on(pool, Int64(chunks), { context, chunk in
                    let counts = Unmanaged<Counts>.fromOpaque(context!).takeUnretainedValue()
                    counts.lock.lock()
                    if counts.returned { counts.afterReturn += 1 }
                    counts.runs[Int(chunk)] += 1
                    counts.lock.unlock()
                }, Unmanaged.passUnretained(counts).toOpaque())
            }
            XCTAssertEqual(ran, 0)
            counts.lock.lock()
            counts.returned = true
            doubled += counts.runs[0..<chunks].filter { $0 > 1 }.count
            missing += counts.runs[0..<chunks].filter { $0 < 1 }.count + counts.runs[chunks...].filter { $0 != 0 }.count
            counts.lock.unlock()
        }
        XCTAssertEqual(doubled, 0)
        XCTAssertEqual(missing, 0)
        XCTAssertEqual(counts.afterReturn, 0)
        XCTAssertEqual(mrc_pool_run_on(pool, 5, { _, _ in }, nil), -1, "more chunks than threads")
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

    /// What a worker does when it finds itself on its caller's CPU: it leaves that CPU where its mask allows another,
    /// and its mask is its own again afterwards (the scheduler stays free to place it); with one CPU it stays.
    func testAThreadMovesOffACPUWhereItsMaskAllowsAnother() {
        let cpus = mrc_allowed_cpus()  // this thread's affinity mask (a run under taskset may allow one CPU)
        // Ten tries: the scheduler may place the thread back on the CPU it left before it looks (its mask allows it
        // again at once), so a loaded machine could show that once; a thread that did not move stays where it is.
        var moves = 0, left = 0
        for _ in 0..<10 {
            let before = mrc_current_cpu()
            moves += Int(mrc_move_off_cpu(before))
            if mrc_current_cpu() != before { left += 1 }
            XCTAssertEqual(mrc_allowed_cpus(), cpus, "the thread's own mask is back")
        }
        if cpus >= 2 {
            XCTAssertEqual(moves, 10)
            XCTAssertGreaterThanOrEqual(left, 8, "it left its CPU in \(left) of 10 tries")
        } else {
            XCTAssertEqual(moves, 0)
            XCTAssertEqual(left, 0)
        }
        XCTAssertEqual(mrc_move_off_cpu(-1), 0, "no such CPU")
        let elsewhere = mrc_current_cpu() == 0 ? 1 : 0
        if cpus >= 2 { XCTAssertEqual(mrc_move_off_cpu(Int32(elsewhere)), 0, "not on CPU \(elsewhere): nothing to leave") }
    }
}
