import XCTest
@testable import Kernels

final class BLASTests: XCTestCase {
    /// OpenBLAS must not run its generic SSE3 kernels on a CPU with AVX2/AVX-512 (3.7× slower).
    func testOpenBLASUsesKernelsForThisCPU() throws {
        var random = TestRandom(seed: 80)
        let a = TestBuffer(normal: 64, &random), b = TestBuffer(normal: 64, &random), c = TestBuffer(count: 64)
        gemm(transA: false, transB: false, m: 8, n: 8, k: 8, alpha: 1, a: a.c, lda: 8, b: b.c, ldb: 8, beta: 0, c: c.p, ldc: 8)
        guard let core = BLAS.coreName else { return }  // not OpenBLAS: nothing to check
        if let override = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            XCTAssertEqual(core.lowercased(), override.lowercased(), "OPENBLAS_CORETYPE must be respected")
        } else if let wanted = BLAS.coreForThisCPU() {
            XCTAssertFalse(["Prescott", "Core2", "Nehalem"].contains(core),
                           "OpenBLAS runs generic \(core) kernels on a CPU that supports \(wanted)")
        }
    }

    func testSingleThreadedRestoresTheThreadCount() {
        BLAS.setThreads(2)
        BLAS.singleThreaded { XCTAssertEqual(BLAS.threads, 1) }
        XCTAssertEqual(BLAS.threads, BLAS.coreName == nil ? 1 : 2)
    }

    /// The process's age, which `waitForIdleThreads` waits against, is read right: positive, below the machine's
    /// uptime, and growing with the clock; the wait returns once the process is older than asked.
    func testProcessAgeAndTheWaitForOpenBLASThreads() throws {
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        let t0 = clock.now
        let first = try XCTUnwrap(BLAS.secondsSinceProcessStart())
        let t1 = clock.now
        XCTAssertGreaterThan(first, 0)
        XCTAssertLessThan(first, ProcessInfo.processInfo.systemUptime + 1)
        Thread.sleep(forTimeInterval: 0.05)
        let t2 = clock.now
        let second = try XCTUnwrap(BLAS.secondsSinceProcessStart())
        let t3 = clock.now
        // /proc/uptime has two decimals: each age is within 10 ms of the clock, the reads took place between t0–t1
        // and t2–t3.
        XCTAssertGreaterThanOrEqual(second - first, seconds(t1.duration(to: t2)) - 0.021)
        XCTAssertLessThanOrEqual(second - first, seconds(t0.duration(to: t3)) + 0.021)
        let start = Date()
        BLAS.waitForIdleThreads(seconds: second + 0.2)
        let waited = Date().timeIntervalSince(start)
        if BLAS.coreName != nil { XCTAssertGreaterThan(waited, 0.15) } else { XCTAssertLessThan(waited, 0.05) }
        XCTAssertLessThan(waited, 1.0)
    }
}
