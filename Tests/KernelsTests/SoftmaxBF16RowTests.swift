import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The attention's softmax-to-bf16 row on AVX-512 BF16 (C, `mrc_softmax_row_bf16`) and its portable Swift
/// twin, each against the softmax computed in Double. A probability p = e_j / Σe carries the relative error
/// of two exponentials (the twin's e^x 1.2e-7, the kernel's degree-5 one 3.6e-6, each plus 4 roundings)
/// and of the fp32 sum (cols · 2⁻²⁴) and product (2⁻²⁴); rounded to bf16 it must lie within half a bf16
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
            func check(_ values: [BF16], expError: Double, _ what: String) {
                for j in 0..<cols {
                    let exact = exps[j] / total, got = Double(float(bfloat16: values[j]))
                    let relative = 2 * (expError + 4 * u) + sumError
                    XCTAssertLessThanOrEqual(abs(got - exact), Double(bf16ULP(Float(exact))) / 2 + relative * exact + 0x1p-126,
                                             "\(what) [\(j)] of \(cols)")
                }
            }
            check(twin, expError: 1.2e-7, "portable twin")
            guard hasKernel else { continue }
            kernelScratch.withUnsafeMutableBufferPointer { x in
                kernel.withUnsafeMutableBufferPointer { o in
                    withBias(bias) { mrc_softmax_row_bf16(x.baseAddress!, $0, Int64(cols), o.baseAddress!) }
                }
            }
            check(kernel, expError: 3.6e-6, "AVX-512 BF16 kernel")
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
