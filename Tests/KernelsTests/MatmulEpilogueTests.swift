import Foundation
import XCTest
@testable import Kernels

/// The fused epilogues of the bf16 matmul (GELU, + residual; fp32 or bf16 output) on both backends
/// (oneDNN's post-ops and the reference twin), and on oneDNN with the weight packed in its layout,
/// against the exact value computed in Double from the
/// same bf16 inputs. The tolerance, per element:
/// - the fp32 sum before the epilogue: γ_{k+2} · (Σ|a·b| + |bias|), as in `LowPrecisionTests`;
/// - GELU: its slope is at most 1.13 in magnitude, so that error grows at most 1.13×, plus the erf
///   approximation's error scaled by |x|/2 (`erfErrorBound`, which oneDNN's Abramowitz–Stegun erf, max
///   error 1.5e-7, also meets) and the last fp32 roundings (4 u · |gelu(x)|);
/// - the residual: one more fp32 addition (u · |result|);
/// - a bf16 output: half a bf16 ulp of the value (8 significant bits: at most 2⁻⁸ relative), on top.
final class MatmulEpilogueTests: XCTestCase {
    func testEpiloguesMatchExactValuesOnBothBackends() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        var random = TestRandom(seed: 31)
        let (m, n, k) = (70, 53, 96)
        let lda = k + 3, ldb = k + 1, ldc = n + 2, ldr = n + 7
        let a = bf16Matrix(m * lda, &random), b = bf16Matrix(n * ldb, &random)
        let bias = TestBuffer(normal: n, &random), residual = TestBuffer(normal: m * ldr, &random, scale: 3)
        let u = 0x1p-24, gamma = Double(k + 2) * u / (1 - Double(k + 2) * u)
        var geluChecked = 0
        // The weight packed once in oneDNN's layout, where it has one (AMX, AVX-512 BF16): the third case.
        let weights = PackedWeightCases(b, ld: ldb, k: k, n: n, element: .bf16)
        for (backend, packedLayout) in weights.cases {
            LowPrecision.backend = backend
            for epilogueKind in 0..<3 {
                for cType in [MatrixElement.f32, .bf16] {
                    let epilogue: GemmEpilogue = epilogueKind == 0 ? .none : epilogueKind == 1 ? .gelu : .residual(residual.c, ld: ldr)
                    let out = UnsafeMutableRawPointer.allocate(byteCount: 4 * m * ldc, alignment: 64)
                    defer { out.deallocate() }
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            let weight = weights.weight(packedLayout, plain: bp.baseAddress!).assumingMemoryBound(to: BF16.self)
                            gemmBF16(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                                     b: weight, ldb: ldb, packedB: packedLayout, bias: bias.c, epilogue: epilogue, c: out,
                                     cType: cType, ldc: ldc, threads: 2)
                            for i in 0..<m {
                                for j in 0..<n {
                                    var x = Double(bias.p[j]), magnitude = abs(Double(bias.p[j]))
                                    for p in 0..<k {
                                        let product = Double(float(bfloat16: ap[i * lda + p])) * Double(float(bfloat16: bp[j * ldb + p]))
                                        x += product
                                        magnitude += abs(product)
                                    }
                                    let sumError = gamma * magnitude
                                    var expected = x, tolerance = sumError
                                    switch epilogueKind {
                                    case 1:
                                        expected = exactGELU(x)
                                        tolerance = 1.13 * sumError + abs(x) / 2 * Double(erfErrorBound) + 4 * u * abs(expected)
                                        geluChecked += 1
                                    case 2:
                                        expected = x + Double(residual.p[i * ldr + j])
                                        tolerance = sumError + u * abs(expected)
                                    default: break
                                    }
                                    let got: Double
                                    if cType == .f32 {
                                        got = Double(out.assumingMemoryBound(to: Float.self)[i * ldc + j])
                                    } else {
                                        got = Double(float(bfloat16: out.assumingMemoryBound(to: BF16.self)[i * ldc + j]))
                                        tolerance += 0x1p-8 * (abs(expected) + tolerance)
                                    }
                                    XCTAssertLessThanOrEqual(abs(got - expected), tolerance + 1e-30,
                                        "\(backend) packed \(packedLayout != nil) epilogue \(epilogueKind) \(cType) [\(i),\(j)]: \(got) vs \(expected)")
                                }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(geluChecked, weights.cases.count * 2 * m * n)
        // A CPU with AVX-512 BF16 (and so AMX machines) has a blocked layout; packing must not be a copy there.
        if OneDNN.isa.hasPrefix("avx512_core_bf16") || OneDNN.isa.hasPrefix("avx512_core_amx") {
            XCTAssertNotNil(weights.layout, "no packed layout on \(OneDNN.isa)")
        }
    }

    /// An epilogue with accumulation is refused by the oneDNN face (its sum and the epilogue would
    /// compose in an order the reference does not define).
    func testEpilogueDoesNotCombineWithAccumulation() {
        var d = MatmulDescription(m: 16, n: 16, k: 16, lda: 16, ldb: 16, ldc: 16, transA: false, transB: true,
                                  a: .bf16, b: .bf16, c: .f32)
        d.accumulate = true
        d.epilogue = .gelu
        XCTAssertFalse(OneDNN.supports(d))
        d.accumulate = false
        XCTAssertEqual(OneDNN.supports(d), OneDNN.supports(MatmulDescription(m: 16, n: 16, k: 16, lda: 16, ldb: 16, ldc: 16,
                                                                               transA: false, transB: true, a: .bf16, b: .bf16, c: .f32)))
    }
}
