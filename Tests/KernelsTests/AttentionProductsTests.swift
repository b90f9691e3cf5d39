import XCTest
@testable import Kernels

final class AttentionProductsTests: XCTestCase {
    /// `attentionHeadProduct` (`panel32Product` at head dim 32, gemm otherwise) against the naive
    /// gemm: row counts that use the 12-, 8- and 1-row blocks (21 = 12 + 8 + 1), odd depths, padded strides,
    /// overwrite and accumulate; the columns of c past the product must stay untouched.
    func testHeadProductMatchesNaiveGemm() {
        var random = TestRandom(seed: 90)
        for headDim in [32, 24] {
            for (rows, depth) in [(19, 37), (37, 19), (8, 5), (3, 1), (14, 384), (21, 37), (40, 384)] {
                for accumulate in [false, true] {
                    let lda = depth + 3, ldb = 3 * headDim + 5, ldc = headDim + 7
                    let a = TestBuffer(normal: rows * lda, &random)
                    let b = TestBuffer(normal: depth * ldb, &random)
                    let start = TestBuffer(normal: rows * ldc, &random)
                    let c = TestBuffer(copying: start), expected = TestBuffer(copying: start)
                    let scratch = TestBuffer(normal: attentionHeadScratch(seqLen: depth), &random)
                    let alpha: Float = 0.37
                    attentionHeadProduct(m: rows, n: headDim, k: depth, alpha: alpha, a: a.c, lda: lda, b: b.c, ldb: ldb,
                                         accumulate: accumulate, c: c.p, ldc: ldc, scratch: scratch.p)
                    naiveGemm(transA: false, transB: false, m: rows, n: headDim, k: depth, alpha: alpha, a: a.c, lda: lda,
                              b: b.c, ldb: ldb, beta: accumulate ? 1 : 0, c: expected.p, ldc: ldc)
                    assertClose(c, expected, absolute: 1e-5, relative: 1e-4,
                                "head product dim \(headDim) rows \(rows) depth \(depth) accumulate \(accumulate)")
                    for r in 0..<rows {
                        for col in headDim..<ldc { XCTAssertEqual(c.p[r * ldc + col], start.p[r * ldc + col]) }
                    }
                }
            }
        }
    }
}
