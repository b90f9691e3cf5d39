import Foundation
import XCTest
@testable import Kernels

/// The fused inference layers keep the residual stream in one buffer (`encoderLayerForwardFused`): the residual
/// matmuls add their product onto it (`accumulate`, oneDNN's sum post-op), the int8 per-token dequantisation adds onto
/// it, and LayerNorm normalises it in place. Each must give the same bits as the out-of-place call it replaces (the
/// same fp32 additions, the residual as the other operand), on oneDNN with plain and packed weights and on the
/// reference backend, split over two workers.
final class ResidualInPlaceTests: XCTestCase {
    private let (m, n, k) = (300, 80, 96)  // 4.6 MFLOP: split over two workers (`splitOverWorkers`)
    private var savedWorkers = 0

    // Two workers on any machine: a row split needs 32 rows a worker.
    override func setUp() { savedWorkers = Parallelism.workers; Parallelism.workers = 2 }
    override func tearDown() { Parallelism.workers = savedWorkers }

    private func bits(_ p: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) -> [UInt32] {
        (0..<rows).flatMap { i in (0..<cols).map { p[i * ld + $0].bitPattern } }
    }

    /// Fails with the count of differing elements and the first one (not the whole arrays).
    private func assertSameBits(_ a: [UInt32], _ b: [UInt32], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let differing = zip(a, b).enumerated().filter { $0.element.0 != $0.element.1 }
        if let first = differing.first {
            XCTFail("\(what): \(differing.count) of \(a.count) differ, first [\(first.offset)]: "
                    + "\(Float(bitPattern: first.element.0)) vs \(Float(bitPattern: first.element.1))", file: file, line: line)
        }
    }

    /// For each backend case of `weights`: `product(layout, out, epilogue, accumulate)` once with the residual
    /// epilogue into a fresh buffer and once accumulating onto a copy of `residual` ([m, ld]); the same bits, and not
    /// the residual's.
    private func assertAddedInPlaceEqualsTheEpilogue(_ weights: PackedWeightCases, residual: TestBuffer, ld: Int,
                                                     _ product: (PackedLayout?, FloatBuffer, GemmEpilogue, Bool) -> Void) {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        for (backend, packedLayout) in weights.cases {
            LowPrecision.backend = backend
            let separate = TestBuffer(count: m * ld), inPlace = TestBuffer(copying: residual)
            product(packedLayout, separate.p, .residual(residual.c, ld: ld), false)
            product(packedLayout, inPlace.p, .none, true)
            let what = "\(backend), packed \(packedLayout != nil)"
            let added = bits(inPlace.c, rows: m, cols: n, ld: ld)
            assertSameBits(added, bits(separate.c, rows: m, cols: n, ld: ld), what)
            XCTAssertTrue(zip(added, bits(residual.c, rows: m, cols: n, ld: ld)).contains { $0 != $1 }, "\(what): the product was added")
        }
    }

    func testInt8ProductAddedInPlaceEqualsTheResidualEpilogue() {
        var random = TestRandom(seed: 91)
        let lda = k + 5, ldw = k + 3, ldc = n + 2
        let a = (0..<m * lda).map { _ in Int8(random.uniform(-127, 127.99).rounded(.down)) }
        let w = (0..<n * ldw).map { _ in Int8(random.uniform(-127, 127.99).rounded(.down)) }
        let scales = ColumnScales((0..<n).map { _ in random.uniform(1e-5, 4e-4) })
        let bias = TestBuffer(normal: n, &random, scale: 300), residual = TestBuffer(normal: m * ldc, &random, scale: 3)
        let weights = PackedWeightCases(w, ld: ldw, k: k, n: n, element: .s8)
        assertAddedInPlaceEqualsTheEpilogue(weights, residual: residual, ld: ldc) { layout, out, epilogue, accumulate in
            a.withUnsafeBufferPointer { ap in
                w.withUnsafeBufferPointer { wp in
                    gemmInt8(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, w: weights.weight(layout, plain: wp.baseAddress!), ldw: ldw,
                             packed: layout, scales: scales, bias: bias.c, epilogue: epilogue, accumulate: accumulate, c: out,
                             cType: .f32, ldc: ldc, threads: 2)
                }
            }
        }
    }

    func testBF16ProductAddedInPlaceEqualsTheResidualEpilogue() {
        var random = TestRandom(seed: 92)
        let a = (0..<m * k).map { _ in bfloat16(random.normal()) }, w = (0..<n * k).map { _ in bfloat16(random.normal()) }
        let bias = TestBuffer(normal: n, &random), residual = TestBuffer(normal: m * n, &random, scale: 3)
        let weights = PackedWeightCases(w, ld: k, k: k, n: n, element: .bf16)
        assertAddedInPlaceEqualsTheEpilogue(weights, residual: residual, ld: n) { layout, out, epilogue, accumulate in
            a.withUnsafeBufferPointer { ap in
                w.withUnsafeBufferPointer { wp in
                    let weight = weights.weight(layout, plain: wp.baseAddress!).assumingMemoryBound(to: BF16.self)
                    matmulForwardBF16(out: UnsafeMutableRawPointer(out), outType: .f32, inp16: ap.baseAddress!, weight: weight,
                                      packed: layout, bias: bias.c, epilogue: epilogue, accumulate: accumulate, rows: m,
                                      inFeatures: k, outFeatures: n)
                }
            }
        }
    }

    func testDequantisationOntoTheResidualEqualsTheSeparateOutput() {
        var random = TestRandom(seed: 93)
        let (rows, cols) = (37, 390)
        let product = TestBuffer(normal: rows * cols, &random, scale: 40), residual = TestBuffer(normal: rows * cols, &random, scale: 3)
        let rowScales = TestBuffer(count: rows), rowOffsets = TestBuffer(normal: rows, &random, scale: 2)
        let weightSums = TestBuffer(normal: cols, &random, scale: 5), bias = TestBuffer(normal: cols, &random)
        for r in 0..<rows { rowScales.p[r] = random.uniform(1e-4, 0.05) }
        let separate = TestBuffer(copying: product), inPlace = TestBuffer(copying: residual)
        dequantizeRowsInt8(c: separate.p, rowScales: rowScales.c, rowOffsets: rowOffsets.c, weightSums: weightSums.c, bias: bias.c,
                           residual: residual.c, rows: rows, cols: cols)
        dequantizeRowsInt8(c: product.p, rowScales: rowScales.c, rowOffsets: rowOffsets.c, weightSums: weightSums.c, bias: bias.c,
                           residual: inPlace.c, rows: rows, cols: cols, out: inPlace.p)
        assertSameBits(bits(inPlace.c, rows: rows, cols: cols, ld: cols), bits(separate.c, rows: rows, cols: cols, ld: cols), "in place")
    }

    func testLayerNormInPlaceEqualsTheSeparateOutput() {
        var random = TestRandom(seed: 94)
        let (rows, cols) = (600, 390)  // over the split threshold: two workers
        let x = TestBuffer(normal: rows * cols, &random, scale: 2), weight = TestBuffer(normal: cols, &random)
        let bias = TestBuffer(normal: cols, &random), multipliers = TestBuffer(count: cols)
        for c in 0..<cols { multipliers.p[c] = random.uniform(10, 40) }
        for rounded in ["bf16", "int8"] {
            let separate = TestBuffer(count: rows * cols), inPlace = TestBuffer(copying: x)
            let mean = TestBuffer(count: rows), rstd = TestBuffer(count: rows), mean2 = TestBuffer(count: rows), rstd2 = TestBuffer(count: rows)
            let copy = UnsafeMutableRawPointer.allocate(byteCount: 2 * rows * cols, alignment: 64)
            let copy2 = UnsafeMutableRawPointer.allocate(byteCount: 2 * rows * cols, alignment: 64)
            defer { copy.deallocate(); copy2.deallocate() }
            for (out, inp, m, r, c) in [(separate.p, x.c, mean.p, rstd.p, copy), (inPlace.p, inPlace.c, mean2.p, rstd2.p, copy2)] {
                layerNormForward(out: out, mean: m, rstd: r, inp: inp, weight: weight.c, bias: bias.c, rows: rows, channels: cols,
                                 eps: 1e-12, out16: rounded == "bf16" ? c.assumingMemoryBound(to: BF16.self) : nil,
                                 out8: rounded == "int8" ? (c.assumingMemoryBound(to: Int8.self), multipliers.c) : nil)
            }
            assertSameBits(bits(inPlace.c, rows: rows, cols: cols, ld: cols), bits(separate.c, rows: rows, cols: cols, ld: cols),
                           "\(rounded): in place")
            let bytes = rounded == "bf16" ? 2 * rows * cols : rows * cols
            XCTAssertEqual(memcmp(copy, copy2, bytes), 0, "\(rounded): the rounded copy")
            assertSameBits(bits(mean2.c, rows: 1, cols: rows, ld: rows), bits(mean.c, rows: 1, cols: rows, ld: rows), "\(rounded): means")
            assertSameBits(bits(rstd2.c, rows: 1, cols: rows, ld: rows), bits(rstd.c, rows: 1, cols: rows, ld: rows), "\(rounded): rstd")
        }
    }
}
