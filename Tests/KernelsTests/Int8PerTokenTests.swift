import Foundation
import XCTest
@testable import Kernels

/// The per-token pieces of the static int8 layer's second feed-forward matmul: the centred, smoothed quantisation of
/// bf16 rows against its twin (bit for bit) and against what it promises (every value within half a step of what it
/// quantised), and the dequantisation with offsets, bias and residual against Double with a derived bound.
final class Int8PerTokenTests: XCTestCase {
    /// Rows of GELU-like values (−0.17 and up) at several magnitudes: one of zeros, some with an outlier
    /// channel and with −0.
    private func geluLikeRows(rows: Int, cols: Int, _ random: inout TestRandom) -> [BF16] {
        var values = [BF16](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let magnitude = Float(1 << (random.next() % 10)) * 1e-3
            for j in 0..<cols {
                var x = max(-0.17, random.normal() * magnitude)
                if r == 1 { x = 0 } else if j == cols / 2 { x *= 300 } else if j == 0 { x = -0.0 }
                values[r * cols + j] = bfloat16(x)
            }
        }
        return values
    }

    func testCentredRowsMatchTheirTwinAndStayWithinHalfAStep() {
        var random = TestRandom(seed: 61)
        for (rows, cols) in [(7, 1536), (3, 17), (1, 1), (40, 100)] {
            let values = geluLikeRows(rows: rows, cols: cols, &random)
            let multipliers = TestBuffer(count: cols)
            for j in 0..<cols { multipliers.p[j] = random.uniform(0.05, 8) }
            var out = [Int8](repeating: -128, count: rows * cols), twin = out  // −128: never a quantised value
            let scales = TestBuffer(count: rows, value: .nan), offsets = TestBuffer(count: rows, value: .nan)
            let twinScales = TestBuffer(count: rows, value: .nan), twinOffsets = TestBuffer(count: rows, value: .nan)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer {
                    quantizeRowsInt8(out: $0.baseAddress!, scales: scales.p, offsets: offsets.p, inp: v.baseAddress!,
                                     multipliers: multipliers.c, rows: rows, cols: cols)
                }
                twin.withUnsafeMutableBufferPointer {
                    naiveQuantizeRowsInt8Centred(out: $0.baseAddress!, scales: twinScales.p, offsets: twinOffsets.p,
                                                 inp: v.baseAddress!, multipliers: multipliers.c, rows: rows, cols: cols)
                }
            }
            let label = "\(rows)×\(cols)"
            XCTAssertEqual(out, twin, "\(label): the quantised values")
            XCTAssertEqual((0..<rows).map { scales.p[$0].bitPattern }, (0..<rows).map { twinScales.p[$0].bitPattern }, "\(label): scales")
            XCTAssertEqual((0..<rows).map { offsets.p[$0].bitPattern }, (0..<rows).map { twinOffsets.p[$0].bitPattern }, "\(label): offsets")
            XCTAssertTrue(out.allSatisfy { $0 >= -127 }, "\(label): every element written, within ±127")
            // What it promises, in Double: q · scale + offset is within half a step of y (and a few fp32 roundings of
            // the largest |y| of the row: the difference, the product by 1 / scale and that reciprocal).
            for r in 0..<rows {
                let y = (0..<cols).map { Double(float(bfloat16: values[r * cols + $0])) * Double(multipliers.p[$0]) }
                let scale = Double(scales.p[r]), offset = Double(offsets.p[r]), largest = y.map(abs).max()!
                let slack = 8 * 0x1p-24 * (largest + abs(offset)) + 4 * 0x1p-24 * 127 * scale
                for j in 0..<cols {
                    let error = abs(Double(out[r * cols + j]) * scale + offset - y[j])
                    if error > scale / 2 + slack {
                        XCTFail("\(label) [\(r), \(j)]: \(out[r * cols + j]) · \(scale) + \(offset) is \(error) from \(y[j])")
                        return
                    }
                }
                let levels = Set((0..<cols).map { out[r * cols + $0] })
                if cols > 1 && y.min()! < y.max()! {
                    XCTAssertTrue(levels.contains(-127) && levels.contains(127), "\(label) row \(r): the range spans ±127")
                }
            }
            if rows > 2 { XCTAssertEqual(scales.p[1], 1, "an all-zero row has scale 1") }
        }
        // A constant row: scale 1, the value as its offset, every q 0 (nothing to resolve, nothing lost).
        let constant = [BF16](repeating: bfloat16(0.75), count: 40), two = TestBuffer(count: 40, value: 2)
        var q = [Int8](repeating: -128, count: 40)
        let scale = TestBuffer(count: 1, value: .nan), offset = TestBuffer(count: 1, value: .nan)
        constant.withUnsafeBufferPointer { v in
            q.withUnsafeMutableBufferPointer {
                quantizeRowsInt8(out: $0.baseAddress!, scales: scale.p, offsets: offset.p, inp: v.baseAddress!, multipliers: two.c,
                                 rows: 1, cols: 40)
            }
        }
        XCTAssertEqual([scale.p[0], offset.p[0]], [1, 1.5])
        XCTAssertEqual(q, [Int8](repeating: 0, count: 40))
    }

    /// Four fp32 roundings (the two products, then the offset's, the bias's and the residual's sums), each within
    /// u = 2⁻²⁴ of its own result: |error| ≤ u · (|c·s| + |o·Σ| + |c·s + o·Σ| + |… + b| + |… + r|), with room for the
    /// errors carried into each sum.
    func testDequantisationMatchesDoubleWithinFourRoundings() {
        var random = TestRandom(seed: 62)
        let (rows, cols) = (37, 390)
        let c = TestBuffer(normal: rows * cols, &random, scale: 40)
        let original = TestBuffer(copying: c)
        let rowScales = TestBuffer(count: rows), rowOffsets = TestBuffer(normal: rows, &random, scale: 2)
        let weightSums = TestBuffer(normal: cols, &random, scale: 5), bias = TestBuffer(normal: cols, &random)
        let residual = TestBuffer(normal: rows * cols, &random, scale: 3)
        for r in 0..<rows { rowScales.p[r] = random.uniform(1e-4, 0.05) }
        dequantizeRowsInt8(c: c.p, rowScales: rowScales.c, rowOffsets: rowOffsets.c, weightSums: weightSums.c, bias: bias.c,
                           residual: residual.c, rows: rows, cols: cols)
        let u = 0x1p-24
        var worst = 0.0
        for r in 0..<rows {
            for j in 0..<cols {
                let scaled = Double(original.p[r * cols + j]) * Double(rowScales.p[r])
                let shift = Double(rowOffsets.p[r]) * Double(weightSums.p[j])
                let shifted = scaled + shift, biased = shifted + Double(bias.p[j]), exact = biased + Double(residual.p[r * cols + j])
                let bound = u * (abs(scaled) + abs(shift) + abs(shifted) + abs(biased) + abs(exact)) * (1 + 8 * u)
                let error = abs(Double(c.p[r * cols + j]) - exact)
                worst = max(worst, error / bound)
                if error > bound { XCTFail("[\(r), \(j)]: \(c.p[r * cols + j]) against \(exact) (bound \(bound))"); return }
            }
        }
        XCTAssertGreaterThan(worst, 0, "the fp32 result differs from the exact one somewhere (the test can see rounding)")
    }
}
