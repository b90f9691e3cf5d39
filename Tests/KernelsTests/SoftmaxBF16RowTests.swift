import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The attention's softmax-to-bf16 row on AVX-512 BF16 (C, `mrc_softmax_row_bf16`) and its portable Swift
/// twin, each against the softmax computed in Double. A probability p_j = e_j / Σe carries the relative error
/// of its exponential ε_j (the twin's e^x 1.2e-7; the kernel's 2^y with y = (x_j − max)·log₂e: 2.7e-6 from
/// its polynomial plus 1.24e-7 · |y| from the two roundings of y), that of the sum (Σ_k p_k ε_k, the
/// exponentials' errors weighted by their share, plus cols · 2⁻²⁴ for the fp32 additions), 4 roundings each
/// and the product (2⁻²⁴); rounded to bf16 it must lie within half a bf16
/// ulp of that (2^(e−8) for a value in [2^e, 2^(e+1))). So the two may differ by one bf16 ulp where the
/// exact value sits near a rounding boundary, never more. The hardware rounding reads a denormal
/// probability (< 2⁻¹²⁶) as 0; there both must be below 2⁻¹²⁶.
final class SoftmaxBF16RowTests: XCTestCase {
    private func withBias<R>(_ bias: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let bias else { return body(nil) }
        return bias.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    private func bf16ULP(_ x: Float) -> Float { x == 0 ? 0 : Float(sign: .plus, exponent: x.exponent - 7, significand: 1) }

    private func rows(_ random: inout TestRandom) -> [(scores: [Float], bias: [Float]?)] {
        var cases: [(scores: [Float], bias: [Float]?)] = []
        for cols in [1, 5, 16, 17, 31, 64, 100, 384] {
            for scale: Float in [0.5, 4, 40] {
                let scores = (0..<cols).map { _ in random.normal() * scale }
                cases.append((scores, nil))
                // The additive key mask: padded keys at −10000 (interior padding), as `AttentionPlan` builds it.
                cases.append((scores, (0..<cols).map { $0 % 3 == 1 ? -10_000 : 0 }))
            }
        }
        // Spread past e^−87: tiny probabilities, denormal after normalisation, and exact zeros.
        cases.append(((0..<40).map { -Float($0) * 2.3 }, nil))
        return cases
    }

    func testAVX512BF16RowMatchesThePortableTwin() {
        var random = TestRandom(seed: 41)
        let hasKernel = mrc_has_avx512_bf16() != 0
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        LowPrecision.backend = .onednn
        // MRC_ONEDNN_MAX_ISA below AVX512_CORE_BF16 caps our C kernels too (the test runs without those instructions).
        let cap = ProcessInfo.processInfo.environment["MRC_ONEDNN_MAX_ISA"]
        let capped = cap.map { !["AVX512_CORE_BF16", "AVX512_CORE_AMX", "ALL"].contains($0) } ?? false
        XCTAssertEqual(softmaxRowsUseAVX512BF16, hasKernel && !capped,
                       "the attention uses the C row exactly where the CPU has AVX-512 BF16 and no cap forbids it")
        LowPrecision.backend = .reference
        XCTAssertFalse(softmaxRowsUseAVX512BF16, "the reference backend runs the portable twin")
        var flips = 0, compared = 0
        for (scores, bias) in rows(&random) {
            let cols = scores.count
            var twinScratch = scores, kernelScratch = scores
            var twin = [BF16](repeating: 0, count: cols), kernel = [BF16](repeating: 0xFFFF, count: cols)
            twinScratch.withUnsafeMutableBufferPointer { x in
                twin.withUnsafeMutableBufferPointer { o in
                    withBias(bias) { portableSoftmaxRowToBF16(out: o.baseAddress!, scores: x.baseAddress!, bias: $0, cols: cols) }
                }
            }
            let shifted = zip(scores, bias ?? Array(repeating: 0, count: cols)).map { Double($0) + Double($1) }
            let top = shifted.max()!
            let exps = shifted.map { exp($0 - top) }, total = exps.reduce(0, +)
            let u = 0x1p-24, sumError = Double(cols + 1) * u
            func check(_ values: [BF16], expError: (Int) -> Double, _ what: String) {
                let weightedError = (0..<cols).reduce(0.0) { $0 + exps[$1] / total * expError($1) }
                for j in 0..<cols {
                    let exact = exps[j] / total, got = Double(float(bfloat16: values[j]))
                    let relative = expError(j) + weightedError + 8 * u + sumError
                    XCTAssertLessThanOrEqual(abs(got - exact), Double(bf16ULP(Float(exact))) / 2 + relative * exact + 0x1p-126,
                                             "\(what) [\(j)] of \(cols)")
                }
            }
            check(twin, expError: { _ in 1.2e-7 }, "portable twin")
            guard hasKernel else { continue }
            kernelScratch.withUnsafeMutableBufferPointer { x in
                kernel.withUnsafeMutableBufferPointer { o in
                    withBias(bias) { mrc_softmax_row_bf16(x.baseAddress!, $0, Int64(cols), o.baseAddress!) }
                }
            }
            check(kernel, expError: { 2.7e-6 + 1.24e-7 * abs(shifted[$0] - top) * 1.4426950408889634 }, "AVX-512 BF16 kernel")
            for j in 0..<cols {
                let a = float(bfloat16: kernel[j]), b = float(bfloat16: twin[j])
                compared += 1
                if a != b { flips += 1 }
                if abs(a) < 0x1p-126 || abs(b) < 0x1p-126 {
                    XCTAssertTrue(abs(a) < 0x1p-126 && abs(b) < 0x1p-126, "denormal region [\(j)] of \(cols): \(a) vs \(b)")
                } else {
                    XCTAssertLessThanOrEqual(abs(a - b), bf16ULP(max(abs(a), abs(b))), "[\(j)] of \(cols): \(a) vs \(b)")
                }
            }
        }
        if hasKernel {
            XCTAssertGreaterThan(compared, 3000)
            print("AVX-512 BF16 softmax rows: \(flips) of \(compared) values one bf16 ulp from the portable twin")
        }
    }
}
