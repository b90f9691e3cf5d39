import XCTest
@testable import Kernels

/// A matmul backward's output gradient rounded to bf16 with its bias gradient in one pass (`convertToBF16(out:
/// columnSums:…)`, C on AVX-512 BF16) against its twins, `bfloat16` per element and `columnSumAccumulate`: the same
/// roundings and the same order of fp32 additions, so equal bit for bit (the values avoid denormals, which the
/// hardware's rounding reads as 0).
final class RoundRowsBF16Tests: XCTestCase {
    func testRoundingWithColumnSumsEqualsTheTwins() {
        var random = TestRandom(seed: 71)
        // Tails in the last column block; a size split over the workers by column blocks; a single row.
        for (rows, cols) in [(37, 100), (3000, 1100), (1, 17)] {
            let inp = TestBuffer(count: rows * cols)
            for i in 0..<rows * cols { inp.p[i] = random.normal() * Float(1 << (random.next() % 12)) }
            let start = TestBuffer(normal: cols, &random)
            let sums = TestBuffer(copying: start), twinSums = TestBuffer(copying: start)
            let out = BF16Buffer.allocate(capacity: rows * cols)
            defer { out.deallocate() }
            out.initialize(repeating: 0xFFFF, count: rows * cols)
            convertToBF16(out: out, columnSums: sums.p, inp: inp.c, rows: rows, cols: cols)
            columnSumAccumulate(into: twinSums.p, matrix: inp.c, rows: rows, cols: cols)
            for i in 0..<rows * cols where out[i] != bfloat16(inp.p[i]) {
                return XCTFail("\(rows)×\(cols) element \(i): \(String(out[i], radix: 16)) vs bf16(\(inp.p[i]))")
            }
            XCTAssertEqual(sums.array, twinSums.array, "\(rows)×\(cols): column sums")
        }
    }
}
