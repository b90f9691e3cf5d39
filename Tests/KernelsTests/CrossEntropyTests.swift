import XCTest
@testable import Kernels

final class CrossEntropyTests: XCTestCase {
    let rows = 6, cols = 37

    func makeLogits(_ random: inout TestRandom) -> TestBuffer {
        let logits = TestBuffer(normal: rows * cols, &random, scale: 3)
        for c in 30..<cols { logits.p[cols + c] = -1e4 }  // row 1 has masked columns
        return logits
    }

    func testHardTargetsMatchNaiveAndGradientCheck() {
        var random = TestRandom(seed: 40)
        let logits = makeLogits(&random)
        let targets: [Int32] = [3, 29, -1, 36, 0, 17]  // row 2 is ignored
        let start = TestBuffer(normal: rows * cols, &random)
        let fast = TestBuffer(copying: start), naive = TestBuffer(copying: start)
        let scale: Float = 1.0 / 5
        targets.withUnsafeBufferPointer { t in
            let lossFast = softmaxCrossEntropy(logits: logits.c, targets: t.baseAddress!, dlogits: fast.p,
                                               rows: rows, cols: cols, scale: scale)
            let lossNaive = naiveSoftmaxCrossEntropy(logits: logits.c, targets: t.baseAddress!, dlogits: naive.p,
                                                     rows: rows, cols: cols, scale: scale)
            XCTAssertEqual(lossFast, lossNaive, accuracy: 1e-5 * abs(lossNaive))
            assertClose(fast, naive, absolute: 1e-6, relative: 1e-5, "softmaxCrossEntropy dlogits")
            for c in 0..<cols { XCTAssertEqual(fast.p[2 * cols + c], start.p[2 * cols + c], "ignored row has no gradient") }
            assertGradient("hard cross-entropy", input: logits, analytic: added(fast, since: start)) {
                Double(softmaxCrossEntropy(logits: logits.c, targets: t.baseAddress!, dlogits: nil,
                                           rows: rows, cols: cols, scale: scale))
            }
        }
    }

    func testSoftTargetsMatchNaiveAndGradientCheck() {
        var random = TestRandom(seed: 41)
        let logits = makeLogits(&random)
        let teacher = TestBuffer(normal: rows * cols, &random, scale: 2)
        for c in 30..<cols { teacher.p[cols + c] = -1e4 }
        let targetProbs = TestBuffer(count: rows * cols)
        softmaxForward(out: targetProbs.p, inp: teacher.c, rows: rows, cols: cols)
        let start = TestBuffer(normal: rows * cols, &random)
        let fast = TestBuffer(copying: start), naive = TestBuffer(copying: start)
        let scale: Float = 0.5
        let lossFast = softTargetCrossEntropy(logits: logits.c, targetProbs: targetProbs.c, dlogits: fast.p,
                                              rows: rows, cols: cols, scale: scale)
        let lossNaive = naiveSoftTargetCrossEntropy(logits: logits.c, targetProbs: targetProbs.c, dlogits: naive.p,
                                                    rows: rows, cols: cols, scale: scale)
        XCTAssertEqual(lossFast, lossNaive, accuracy: 1e-5 * abs(lossNaive))
        assertClose(fast, naive, absolute: 1e-6, relative: 1e-5, "softTargetCrossEntropy dlogits")
        assertGradient("soft cross-entropy", input: logits, analytic: added(fast, since: start)) {
            Double(softTargetCrossEntropy(logits: logits.c, targetProbs: targetProbs.c, dlogits: nil,
                                          rows: rows, cols: cols, scale: scale))
        }
    }

    /// A one-hot soft target is the hard target: same loss, same gradient.
    func testOneHotSoftTargetEqualsHardTarget() {
        var random = TestRandom(seed: 42)
        let logits = makeLogits(&random)
        let targets: [Int32] = [1, 2, 3, 4, 5, 6]
        let oneHot = TestBuffer(count: rows * cols)
        for r in 0..<rows { oneHot.p[r * cols + Int(targets[r])] = 1 }
        let hardGrad = TestBuffer(count: rows * cols), softGrad = TestBuffer(count: rows * cols)
        let hard = targets.withUnsafeBufferPointer {
            softmaxCrossEntropy(logits: logits.c, targets: $0.baseAddress!, dlogits: hardGrad.p, rows: rows, cols: cols, scale: 1)
        }
        let soft = softTargetCrossEntropy(logits: logits.c, targetProbs: oneHot.c, dlogits: softGrad.p,
                                          rows: rows, cols: cols, scale: 1)
        XCTAssertEqual(hard, soft, accuracy: 1e-5 * abs(hard))
        assertClose(softGrad, hardGrad, absolute: 1e-6, "one-hot soft vs hard gradient")
    }
}
