import Foundation
import XCTest
@testable import Kernels

/// The per-token pieces of the static int8 layer's second feed-forward matmul: the smoothed quantisation of bf16
/// rows against its twin, the fp32 dynamic scheme's `quantizeRowsInt8` on the widened values times the multipliers
/// (bit for bit), and the dequantisation with bias and residual against Double with a derived bound.
final class Int8PerTokenTests: XCTestCase {
    func testSmoothedBF16RowsQuantiseAsTheFP32SchemeOnTheWidenedValues() {
        var random = TestRandom(seed: 61)
        for (rows, cols) in [(7, 1536), (3, 17), (1, 1), (40, 100)] {
            var values = [BF16](repeating: 0, count: rows * cols)
            for r in 0..<rows {
                // Rows of GELU-like values at several magnitudes, one of zeros, some with an outlier and with −0.
                let magnitude = Float(1 << (random.next() % 10)) * 1e-3
                for j in 0..<cols {
                    var x = random.normal() * magnitude
                    if r == 1 { x = 0 } else if j == cols / 2 { x *= 300 } else if j == 0 { x = -0.0 }
                    values[r * cols + j] = bfloat16(x)
                }
            }
            let multipliers = TestBuffer(count: cols)
            for j in 0..<cols { multipliers.p[j] = random.uniform(0.05, 8) }
            let widened = TestBuffer(count: rows * cols)
            for i in 0..<rows * cols { widened.p[i] = float(bfloat16: values[i]) * multipliers.p[i % cols] }
            var out = [Int8](repeating: -128, count: rows * cols), twin = out  // −128: never a quantised value
            let scales = TestBuffer(count: rows, value: .nan), twinScales = TestBuffer(count: rows, value: .nan)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer {
                    quantizeRowsInt8(out: $0.baseAddress!, scales: scales.p, inp: v.baseAddress!, multipliers: multipliers.c,
                                     rows: rows, cols: cols)
                }
            }
            twin.withUnsafeMutableBufferPointer {
                quantizeRowsInt8(out: $0.baseAddress!, scales: twinScales.p, inp: widened.c, rows: rows, cols: cols)
            }
            XCTAssertEqual(out, twin, "\(rows)×\(cols): the quantised values")
            XCTAssertEqual((0..<rows).map { scales.p[$0].bitPattern }, (0..<rows).map { twinScales.p[$0].bitPattern },
                           "\(rows)×\(cols): the row scales")
            XCTAssertTrue(out.allSatisfy { $0 >= -127 }, "every element written, within ±127")
            if rows > 1 { XCTAssertEqual(scales.p[1], 1, "an all-zero row has scale 1") }
        }
    }

    /// Three fp32 roundings (the product by the row scale, the bias, the residual), each within u = 2⁻²⁴ of its
    /// own result: |error| ≤ u · (|c·s| + |c·s + b| + |c·s + b + r|) + the same bound on the next rounding's input.
    func testDequantisationMatchesDoubleWithinThreeRoundings() {
        var random = TestRandom(seed: 62)
        let (rows, cols) = (37, 390)
        let c = TestBuffer(normal: rows * cols, &random, scale: 40)
        let original = TestBuffer(copying: c)
        let rowScales = TestBuffer(count: rows), bias = TestBuffer(normal: cols, &random)
        let residual = TestBuffer(normal: rows * cols, &random, scale: 3)
        for r in 0..<rows { rowScales.p[r] = random.uniform(1e-4, 0.05) }
        dequantizeRowsInt8(c: c.p, rowScales: rowScales.c, bias: bias.c, residual: residual.c, rows: rows, cols: cols)
        let u = 0x1p-24
        var worst = 0.0
        for r in 0..<rows {
            for j in 0..<cols {
                let scaled = Double(original.p[r * cols + j]) * Double(rowScales.p[r])
                let biased = scaled + Double(bias.p[j]), exact = biased + Double(residual.p[r * cols + j])
                let bound = u * (abs(scaled) + abs(biased) + abs(exact)) * (1 + 4 * u)
                let error = abs(Double(c.p[r * cols + j]) - exact)
                worst = max(worst, error / bound)
                if error > bound { XCTFail("[\(r), \(j)]: \(c.p[r * cols + j]) against \(exact) (bound \(bound))"); return }
            }
        }
        XCTAssertGreaterThan(worst, 0, "the fp32 result differs from the exact one somewhere (the test can see rounding)")
    }
}
