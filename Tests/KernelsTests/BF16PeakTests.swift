import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The bf16 peak loop `mrc-bench` divides the matmul rate by (`BF16PeakUnit`, `KernelBenchmarks.bf16Peak`): it runs
/// the unit the matmuls run on here (from /proc/cpuinfo and the `MRC_ONEDNN_MAX_ISA` cap, independently of the
/// code's own detection), and every product it times happens (its accumulators count them exactly).
final class BF16PeakTests: XCTestCase {
    private var cpuFlags: String { (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "" }

    /// The unit expected from the CPU's flags and the cap: AMX only where oneDNN may dispatch it, AVX-512 BF16 where
    /// the cap allows at least AVX512_CORE_BF16, none below (AVX2, AVX512_CORE) or without oneDNN.
    private var expectedUnit: BF16PeakUnit? {
        let flags = cpuFlags
        let cap = ProcessInfo.processInfo.environment["MRC_ONEDNN_MAX_ISA"]
        guard OneDNN.isLinked, flags.contains(" avx512_bf16") else { return nil }
        if let cap, !["AVX512_CORE_BF16", "AVX512_CORE_AMX", "ALL"].contains(cap) { return nil }
        let amx = flags.contains(" amx_bf16") && flags.contains(" amx_tile") && (cap.map { $0 != "AVX512_CORE_BF16" } ?? true)
        return amx ? .amx : .avx512
    }

    func testRunsTheUnitTheMatmulsRunOn() {
        XCTAssertEqual(BF16PeakUnit.here, expectedUnit, "cap \(ProcessInfo.processInfo.environment["MRC_ONEDNN_MAX_ISA"] ?? "none"), oneDNN \(OneDNN.isa)")
    }

    func testEveryProductOfTheLoopHappens() throws {
        // The AVX-512 loop runs wherever the CPU has AVX-512 BF16 (the cap only decides what the bench reports).
        var units: [BF16PeakUnit] = []
        if mrc_has_avx512_bf16() != 0 { units.append(.avx512) }
        if BF16PeakUnit.here == .amx { units.append(.amx) }
        guard !units.isEmpty else {
            XCTAssertEqual(mrc_bf16_peak_avx512(10), -1, "without AVX-512 BF16 the loop refuses to run")
            return
        }
        for unit in units {
            XCTAssertEqual(unit.run(rounds: 0), 0, unit.rawValue)
            XCTAssertEqual(unit.run(rounds: 1), unit.countPerRound, unit.rawValue)
            XCTAssertEqual(unit.run(rounds: 1_000), 1_000 * unit.countPerRound, unit.rawValue)
            // At the most rounds the bench runs, every accumulator is still exact.
            XCTAssertEqual(unit.run(rounds: unit.maxRounds), Double(unit.maxRounds) * unit.countPerRound, unit.rawValue)
        }
    }

    func testThePeakCountsTheLoopOnEveryWorker() throws {
        guard let unit = BF16PeakUnit.here else {
            XCTAssertNil(KernelBenchmarks.bf16Peak(repeats: 1), "no unit, no peak")
            return
        }
        // bf16Peak itself stops the process if a worker's sums are not exact.
        let peak = try XCTUnwrap(KernelBenchmarks.bf16Peak(repeats: 1))
        XCTAssertEqual(peak.flops, unit.flopsPerRound * Double(unit.maxRounds * max(1, Parallelism.workers)))
        XCTAssertGreaterThan(peak.seconds, 0)
    }
}
