import Foundation
import XCTest
@testable import Kernels

/// Static int8: the product `gemmInt8` (oneDNN with plain and packed s8 weights, and its reference twin), each
/// epilogue and output type, against the exact value computed in Double from the same int8 inputs; and the
/// static quantisation of activations against an exact rounding.
///
/// The integer sums are exact on every path, so the tolerance is that of the fp32 steps after them, per
/// element: (S + bias) and the scale, two roundings (2u · |x|); GELU as in `MatmulEpilogueTests` (slope at
/// most 1.13, the erf approximation's error scaled by |x|/2, 4u · |gelu(x)|); the residual, u · |result|; the
/// post-scale, u · |result|; a bf16 output, half a bf16 ulp (2⁻⁸ relative) on top. An s8 output is the
/// exact value rounded to nearest even and saturated to −128...127, and may differ by one level only where
/// the exact value lies within that tolerance of a rounding boundary.
final class Int8StaticTests: XCTestCase {
    private func roundedInt8(_ x: Double) -> Double { min(127, max(-128, x.rounded(.toNearestOrEven))) }

    func testProductsMatchExactValuesOnBothBackends() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        var random = TestRandom(seed: 47)
        let (m, n, k) = (70, 53, 96)
        let lda = k + 5, ldw = k + 3, ldc = n + 2, ldr = n + 7
        let a = (0..<m * lda).map { _ in Int8(random.uniform(-127, 127.99).rounded(.down)) }
        let w = (0..<n * ldw).map { _ in Int8(random.uniform(-127, 127.99).rounded(.down)) }
        let scales = ColumnScales((0..<n).map { _ in random.uniform(1e-5, 4e-4) })
        let bias = TestBuffer(normal: n, &random, scale: 300), residual = TestBuffer(normal: m * ldr, &random, scale: 3)
        let u = 0x1p-24
        let weights = PackedWeightCases(w, ld: ldw, k: k, n: n, element: .s8)
        var boundaryMisses = 0, s8Checked = 0
        for (backend, packedLayout) in weights.cases {
            LowPrecision.backend = backend
            for epilogueKind in 0..<3 {
                for cType in [MatrixElement.f32, .bf16, .s8] {
                    let epilogue: GemmEpilogue = epilogueKind == 0 ? .none : epilogueKind == 1 ? .gelu : .residual(residual.c, ld: ldr)
                    // An s8 output needs a post-scale that brings the values into −128...127 (and past it, to test saturation).
                    let postScale: Float = cType == .s8 ? (epilogueKind == 2 ? 40 : 60) : (epilogueKind == 0 ? 1 : 0.75)
                    let out = UnsafeMutableRawPointer.allocate(byteCount: 4 * m * ldc, alignment: 64)
                    defer { out.deallocate() }
                    a.withUnsafeBufferPointer { ap in
                        w.withUnsafeBufferPointer { wp in
                            let weight = weights.weight(packedLayout, plain: wp.baseAddress!)
                            gemmInt8(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, w: weight, ldw: ldw, packed: packedLayout,
                                     scales: scales, bias: bias.c, epilogue: epilogue, postScale: postScale, c: out, cType: cType,
                                     ldc: ldc, threads: 2)
                            for i in 0..<m {
                                for j in 0..<n {
                                    var sum = 0
                                    for p in 0..<k { sum += Int(ap[i * lda + p]) * Int(wp[j * ldw + p]) }
                                    let x = Double(scales.values[j]) * (Double(sum) + Double(bias.p[j]))
                                    var expected = x, tolerance = 2 * u * abs(x)
                                    if epilogueKind == 1 {
                                        expected = exactGELU(x)
                                        tolerance = 1.13 * tolerance + abs(x) / 2 * Double(erfErrorBound) + 4 * u * abs(expected)
                                    } else if epilogueKind == 2 {
                                        expected = x + Double(residual.p[i * ldr + j])
                                        tolerance += u * abs(expected)
                                    }
                                    expected *= Double(postScale)
                                    tolerance = tolerance * Double(postScale) + u * abs(expected)
                                    let what = "\(backend) packed \(packedLayout != nil) epilogue \(epilogueKind) \(cType) [\(i),\(j)]"
                                    switch cType {
                                    case .f32:
                                        let got = Double(out.assumingMemoryBound(to: Float.self)[i * ldc + j])
                                        XCTAssertLessThanOrEqual(abs(got - expected), tolerance + 1e-30, "\(what): \(got) vs \(expected)")
                                    case .bf16:
                                        let got = Double(float(bfloat16: out.assumingMemoryBound(to: BF16.self)[i * ldc + j]))
                                        tolerance += 0x1p-8 * (abs(expected) + tolerance)
                                        XCTAssertLessThanOrEqual(abs(got - expected), tolerance + 1e-30, "\(what): \(got) vs \(expected)")
                                    default:
                                        let got = Double(out.assumingMemoryBound(to: Int8.self)[i * ldc + j])
                                        let nearBoundary = roundedInt8(expected - tolerance) != roundedInt8(expected + tolerance)
                                        s8Checked += 1
                                        if got != roundedInt8(expected) {
                                            boundaryMisses += 1
                                            XCTAssertTrue(nearBoundary && abs(got - roundedInt8(expected)) == 1,
                                                          "\(what): \(got) vs \(expected) (tolerance \(tolerance))")
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(s8Checked, weights.cases.count * 3 * m * n)
        XCTAssertLessThan(boundaryMisses, s8Checked / 1000, "s8 outputs off by a level far more often than ties explain")
        if OneDNN.hasExactInt8, OneDNN.isa.hasPrefix("avx512_core_amx") || OneDNN.isa.hasPrefix("avx512_core_bf16") {
            XCTAssertNotNil(weights.layout, "no packed s8 layout on \(OneDNN.isa)")
        }
        // oneDNN 2.6's brgemm kernels take the column scales only baked into the primitive (run-time scales fall
        // to gemm:jit or its reference code): the scaled products on packed weights must run on them.
        if let layout = weights.layout {
            LowPrecision.backend = .onednn
            var d = MatmulDescription(m: 128, n: n, k: k, lda: k, ldb: k, ldc: n, transA: false, transB: true, a: .s8, b: .s8, c: .s8)
            (d.hasBias, d.epilogue, d.columnScales, d.postScale, d.packedB) = (true, .gelu, scales, 20, layout)
            let implementation = OneDNN.implementation(d) ?? "none"
            XCTAssertTrue(implementation.hasPrefix("brg:"), "the scaled s8 product runs \(implementation)")
        }
    }

    func testStaticQuantizationRoundsToNearestEvenAndClamps() {
        let values: [Float] = [0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, 127.4, 200, -127.5, -300, 3.49, -3.51, .nan]
        let multipliers = [Float](repeating: 1, count: values.count)
        var out = [Int8](repeating: 99, count: values.count)
        quantizeStaticInt8(out: &out, inp: values, multipliers: multipliers, rows: 1, channels: values.count)
        XCTAssertEqual(out, [0, 0, 2, 2, 0, -2, -2, 126, 127, 127, -127, -127, 3, -4, 0])
        // Per-channel multipliers, and the bf16 source with one multiplier.
        var random = TestRandom(seed: 3)
        let (rows, channels) = (5, 37)
        let x = (0..<rows * channels).map { _ in random.normal() * 20 }
        let perChannel = (0..<channels).map { _ in random.uniform(0.2, 3) }
        var q = [Int8](repeating: 0, count: rows * channels), q16 = q
        quantizeStaticInt8(out: &q, inp: x, multipliers: perChannel, rows: rows, channels: channels)
        let x16 = x.map(bfloat16)
        quantizeStaticInt8(out: &q16, inp: x16, multiplier: 1.7, rows: rows, channels: channels)
        for r in 0..<rows {
            for j in 0..<channels {
                let i = r * channels + j
                XCTAssertEqual(q[i], Int8(min(127, max(-127, (x[i] * perChannel[j]).rounded(.toNearestOrEven)))), "[\(r),\(j)]")
                XCTAssertEqual(q16[i], Int8(min(127, max(-127, (float(bfloat16: x16[i]) * 1.7).rounded(.toNearestOrEven)))))
            }
        }
    }
}
