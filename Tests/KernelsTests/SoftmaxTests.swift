import XCTest
@testable import Kernels

final class SoftmaxTests: XCTestCase {
    func testForwardMatchesNaive() {
        var random = TestRandom(seed: 30)
        let (rows, cols) = (7, 37)
        let inp = TestBuffer(normal: rows * cols, &random, scale: 4)
        let fast = TestBuffer(count: rows * cols), naive = TestBuffer(count: rows * cols)
        softmaxForward(out: fast.p, inp: inp.c, rows: rows, cols: cols)
        naiveSoftmaxForward(out: naive.p, inp: inp.c, rows: rows, cols: cols)
        assertClose(fast, naive, absolute: 1e-7, relative: 1e-6, "softmaxForward")
        logSoftmaxForward(out: fast.p, inp: inp.c, rows: rows, cols: cols)
        naiveLogSoftmaxForward(out: naive.p, inp: inp.c, rows: rows, cols: cols)
        assertClose(fast, naive, absolute: 1e-5, relative: 1e-6, "logSoftmaxForward")
    }

    func testLargeMagnitudesAndFullyMaskedRows() {
        let cols = 21
        let inp = TestBuffer(count: 3 * cols)
        for c in 0..<cols {
            inp.p[c] = 1e4 + Float(c)            // huge logits: naive exp would overflow
            inp.p[cols + c] = -1e4                // fully masked row: uniform
            inp.p[2 * cols + c] = c < 5 ? Float(c) * 30 : -1e4  // partly masked with large spread
        }
        let fast = TestBuffer(count: 3 * cols), naive = TestBuffer(count: 3 * cols)
        softmaxForward(out: fast.p, inp: inp.c, rows: 3, cols: cols)
        naiveSoftmaxForward(out: naive.p, inp: inp.c, rows: 3, cols: cols)
        assertClose(fast, naive, absolute: 1e-7, relative: 1e-5, "softmax extreme rows")
        for c in 0..<cols { XCTAssertEqual(fast.p[cols + c], 1 / Float(cols), accuracy: 1e-7, "fully masked row is uniform") }
        var sum: Float = 0
        for c in 0..<cols { sum += fast.p[c] }
        XCTAssertEqual(sum, 1, accuracy: 1e-6)
        // In place.
        softmaxForward(out: inp.p, inp: inp.c, rows: 3, cols: cols)
        assertClose(inp, naive, absolute: 1e-7, relative: 1e-5, "softmax in place")
    }

    func testBackwardMatchesNaiveAndGradientCheck() {
        var random = TestRandom(seed: 31)
        let (rows, cols) = (5, 19)
        let inp = TestBuffer(normal: rows * cols, &random, scale: 2)
        let probs = TestBuffer(count: rows * cols)
        softmaxForward(out: probs.p, inp: inp.c, rows: rows, cols: cols)
        let w = TestBuffer(normal: rows * cols, &random)
        let start = TestBuffer(normal: rows * cols, &random)
        let fast = TestBuffer(copying: start), naive = TestBuffer(copying: start)
        softmaxBackward(dinp: fast.p, dout: w.c, probs: probs.c, rows: rows, cols: cols)
        naiveSoftmaxBackward(dinp: naive.p, dout: w.c, probs: probs.c, rows: rows, cols: cols)
        assertClose(fast, naive, absolute: 1e-6, relative: 1e-5, "softmaxBackward")
        let out = TestBuffer(count: rows * cols)
        assertGradient("softmax dinp", input: inp, analytic: added(fast, since: start)) {
            softmaxForward(out: out.p, inp: inp.c, rows: rows, cols: cols)
            return dot(w, out)
        }
    }
}
