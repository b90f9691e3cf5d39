import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The fused GELU of the bf16 training layer (`geluForwardBF16`, `geluBackwardBF16`: C, AVX-512 BF16) element by
/// element against GELU in Double. Its fp32 result before the rounding is within ε of the exact value (the kernel's
/// stated bound: Φ through Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7 on erf, and a 2^y of relative error ≤ 2.7e-6,
/// so ε = 1.5e-6·|x| forward and 2.5e-6·|dout| backward plus the product's rounding, 2⁻²⁴ relative); the bf16 it
/// writes is within half a bf16 ulp of that value, at most 2⁻⁸ of its magnitude. So |ours − exact| ≤
/// 2⁻⁸·(|exact| + ε) + ε. The bias gradient is an fp32 sum of `rows` such values on top of the starting value:
/// within Σ ε + γ(rows)·(|start| + Σ|d|) of the Double sum.
final class GELUBF16Tests: XCTestCase {
    private let halfULP = 0x1p-8

    private func exactDerivative(_ x: Double) -> Double {
        0.5 * (1 + erf(x / 2.0.squareRoot())) + x * exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
    }

    /// Inputs: normal draws at scale 3, with the tails and the special values mixed in.
    private func inputs(_ count: Int, _ random: inout TestRandom) -> TestBuffer {
        let inp = TestBuffer(normal: count, &random, scale: 3)
        let special: [Float] = [0, -0.0, 1e-30, -1e-30, 0.5, -0.5, 6, -6, -12, -13.5, -30, 30, 1e4, -1e4]
        for (i, x) in special.enumerated() where i < count { inp.p[(i * 7919) % count] = x }
        return inp
    }

    func testRunsExactlyWhereAVX512BF16IsAllowed() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        LowPrecision.backend = .onednn
        let cap = ProcessInfo.processInfo.environment["MRC_ONEDNN_MAX_ISA"]
        let capped = cap.map { !["AVX512_CORE_BF16", "AVX512_CORE_AMX", "ALL"].contains($0) } ?? false
        XCTAssertEqual(FusedGELU.runs, mrc_has_avx512_bf16() != 0 && !capped && FusedGELU.enabled)
    }

    func testForwardMatchesExactGELU() {
        guard FusedGELU.runs else {
            // No AVX-512 BF16 here (or capped below it): the bf16 training layer runs the twins, which GELUTests covers.
            return XCTAssertFalse(avx512BF16Allowed && FusedGELU.enabled)
        }
        var random = TestRandom(seed: 61)
        // A tail-only size, and one split over the workers with the input copy 64-byte aligned (the stores past the
        // cache) and one element off (the ordinary stores).
        for (count, offset) in [(7 * 37, 0), (300_001, 0), (300_001, 1)] {
            let inp = inputs(count, &random)
            var out = [BF16](repeating: 0xFFFF, count: count)  // NaN: an unwritten element fails
            let copyBase = UnsafeMutableRawPointer.allocate(byteCount: 4 * (count + 16), alignment: 64)
            defer { copyBase.deallocate() }
            let copy = copyBase.bindMemory(to: Float.self, capacity: count + 16) + offset
            copy.initialize(repeating: .nan, count: count)
            out.withUnsafeMutableBufferPointer {
                geluForwardBF16(out16: $0.baseAddress!, inp: inp.c, count: count, inputCopy: count == 7 * 37 ? nil : copy)
            }
            if count != 7 * 37 {
                XCTAssertEqual(Array(UnsafeBufferPointer(start: copy, count: count)), inp.array, "the input copy")
            }
            var worst = 0.0
            for i in 0..<count {
                let x = Double(inp.p[i]), exact = exactGELU(x), ours = Double(float(bfloat16: out[i]))
                let epsilon = 1.5e-6 * abs(x) + 0x1p-24 * abs(exact)
                let bound = halfULP * (abs(exact) + epsilon) + epsilon
                let error = abs(ours - exact)
                guard error <= bound else {
                    return XCTFail("geluForwardBF16 x = \(x): \(ours) vs \(exact) (bound \(bound))")
                }
                if bound > 0 { worst = max(worst, error / bound) }
            }
            XCTAssertGreaterThan(worst, 0.3, "the bound is derived, not loose: the worst element reaches \(worst) of it")
        }
    }

    func testBackwardMatchesExactDerivativeAndBiasSums() {
        guard FusedGELU.runs else {
            // No AVX-512 BF16 here (or capped below it): the bf16 training layer runs the twins, which GELUTests covers.
            return XCTAssertFalse(avx512BF16Allowed && FusedGELU.enabled)
        }
        var random = TestRandom(seed: 62)
        // Tails in the last column block, and a size split over the workers by column blocks.
        for (rows, cols) in [(37, 100), (257, 1000)] {
            let n = rows * cols
            let inp = inputs(n, &random), dout = TestBuffer(normal: n, &random)
            let start = TestBuffer(normal: cols, &random), dbias = TestBuffer(copying: start)
            var dinp = [BF16](repeating: 0xFFFF, count: n), unbiased = [BF16](repeating: 0xFFFF, count: n)
            dinp.withUnsafeMutableBufferPointer {
                geluBackwardBF16(dinp16: $0.baseAddress!, dbias: dbias.p, dout: dout.c, inp: inp.c, rows: rows, cols: cols)
            }
            unbiased.withUnsafeMutableBufferPointer {
                geluBackwardBF16(dinp16: $0.baseAddress!, dbias: nil, dout: dout.c, inp: inp.c, rows: rows, cols: cols)
            }
            XCTAssertEqual(dinp, unbiased, "the bias gradient does not change the input gradient")
            var worst = 0.0
            var sums = (0..<cols).map { Double(start.p[$0]) }, magnitudes = (0..<cols).map { abs(Double(start.p[$0])) }
            var epsilons = [Double](repeating: 0, count: cols)
            for r in 0..<rows {
                for c in 0..<cols {
                    let i = r * cols + c
                    let exact = Double(dout.p[i]) * exactDerivative(Double(inp.p[i]))
                    let epsilon = 2.5e-6 * abs(Double(dout.p[i])) + 0x1p-24 * abs(exact)
                    let bound = halfULP * (abs(exact) + epsilon) + epsilon
                    let error = abs(Double(float(bfloat16: dinp[i])) - exact)
                    guard error <= bound else {
                        return XCTFail("geluBackwardBF16 [\(r), \(c)] x = \(inp.p[i]): \(float(bfloat16: dinp[i])) vs \(exact)")
                    }
                    if bound > 0 { worst = max(worst, error / bound) }
                    sums[c] += exact
                    magnitudes[c] += abs(exact) + epsilon
                    epsilons[c] += epsilon
                }
            }
            XCTAssertGreaterThan(worst, 0.3, "the worst element reaches \(worst) of its bound")
            for c in 0..<cols {
                let bound = epsilons[c] + gamma(rows) * magnitudes[c]
                let error = abs(Double(dbias.p[c]) - sums[c])
                guard error <= bound else {
                    return XCTFail("bias gradient [\(c)] of \(rows)×\(cols): \(dbias.p[c]) vs \(sums[c]) (bound \(bound))")
                }
            }
        }
    }
}
