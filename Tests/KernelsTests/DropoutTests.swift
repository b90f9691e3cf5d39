import XCTest
@testable import Kernels

final class DropoutTests: XCTestCase {
    func testMatchesNaiveAndIsDeterministic() {
        var random = TestRandom(seed: 50)
        let count = 1_000_003  // odd, and large enough for the parallel path
        let inp = TestBuffer(normal: count, &random)
        let dropout = Dropout(probability: 0.1, seed: 1234, stream: 7)
        let first = TestBuffer(count: count), second = TestBuffer(count: count), naive = TestBuffer(count: count)
        dropoutForward(out: first.p, inp: inp.c, count: count, dropout: dropout)
        dropoutForward(out: second.p, inp: inp.c, count: count, dropout: dropout)
        naiveDropoutForward(out: naive.p, inp: inp.c, count: count, dropout: dropout)
        XCTAssertEqual(first.array, second.array, "same seed and stream must give the same mask")
        XCTAssertEqual(first.array, naive.array, "vector mask must equal the scalar definition")
        // A different stream or seed gives a different mask.
        for other in [Dropout(probability: 0.1, seed: 1234, stream: 8), Dropout(probability: 0.1, seed: 1235, stream: 7)] {
            let out = TestBuffer(count: count)
            dropoutForward(out: out.p, inp: inp.c, count: count, dropout: other)
            var differ = 0
            for i in 0..<count where (out.p[i] == 0) != (first.p[i] == 0) { differ += 1 }
            // Independent masks disagree on 2·p·(1-p) = 18% of elements.
            XCTAssertEqual(Double(differ) / Double(count), 0.18, accuracy: 0.005)
        }
    }

    func testDropFractionAndScale() {
        for p: Float in [0.1, 0.5] {
            let count = 1 << 20
            let ones = TestBuffer(count: count, value: 1)
            let out = TestBuffer(count: count)
            dropoutForward(out: out.p, inp: ones.c, count: count, dropout: Dropout(probability: p, seed: 99, stream: 0))
            var dropped = 0
            for i in 0..<count {
                if out.p[i] == 0 { dropped += 1 } else { XCTAssertEqual(out.p[i], 1 / (1 - p), accuracy: 1e-6) }
            }
            // Binomial standard deviation is sqrt(p(1-p)/n) ≈ 5e-4: allow 5 sigma.
            let sigma = (Double(p) * (1 - Double(p)) / Double(count)).squareRoot()
            XCTAssertEqual(Double(dropped) / Double(count), Double(p), accuracy: 5 * sigma, "drop fraction for p = \(p)")
        }
        // p = 0 keeps everything unchanged.
        let inp = TestBuffer(count: 100, value: 3), out = TestBuffer(count: 100)
        dropoutForward(out: out.p, inp: inp.c, count: 100, dropout: Dropout(probability: 0, seed: 1, stream: 1))
        XCTAssertEqual(out.array, inp.array)
    }

    /// The residual added in the dropout's pass equals the dropout, then `addForward`, bit for bit (in place too).
    func testForwardAddingTheResidualEqualsDropoutThenAdd() {
        var random = TestRandom(seed: 52)
        let count = 300_017  // split over the workers, with a tail
        let dropout = Dropout(probability: 0.1, seed: 9, stream: 4)
        let inp = TestBuffer(normal: count, &random), residual = TestBuffer(normal: count, &random)
        let twin = TestBuffer(count: count), fused = TestBuffer(copying: inp)
        dropoutForward(out: twin.p, inp: inp.c, count: count, dropout: dropout, startIndex: 7)
        addForward(out: twin.p, a: twin.p, b: residual.c, count: count)
        dropoutForward(out: fused.p, inp: fused.p, count: count, dropout: dropout, startIndex: 7, adding: residual.c)
        XCTAssertEqual(fused.array, twin.array)
    }

    func testBackwardUsesTheForwardMaskAndAccumulates() {
        var random = TestRandom(seed: 51)
        let count = 1003
        let dropout = Dropout(probability: 0.3, seed: 5, stream: 3)
        let inp = TestBuffer(normal: count, &random), out = TestBuffer(count: count)
        dropoutForward(out: out.p, inp: inp.c, count: count, dropout: dropout, startIndex: 500)
        let dout = TestBuffer(normal: count, &random)
        let start = TestBuffer(normal: count, &random)
        let fast = TestBuffer(copying: start), naive = TestBuffer(copying: start)
        dropoutBackward(dinp: fast.p, dout: dout.c, count: count, dropout: dropout, startIndex: 500)
        naiveDropoutBackward(dinp: naive.p, dout: dout.c, count: count, dropout: dropout, startIndex: 500)
        XCTAssertEqual(fast.array, naive.array)
        // Written, not accumulated: over garbage, the gradient alone.
        let written = TestBuffer(count: count, value: .nan)
        dropoutBackward(dinp: written.p, dout: dout.c, count: count, dropout: dropout, startIndex: 500, accumulate: false)
        XCTAssertEqual(written.array, (0..<count).map { out.p[$0] == 0 ? 0 : dout.p[$0] * dropout.keepScale },
                       "dropoutBackward without accumulate")
        for i in 0..<count {
            let gradient = fast.p[i] - start.p[i]
            if out.p[i] == 0 { XCTAssertEqual(gradient, 0, "dropped element \(i) must get no gradient") }
            else { XCTAssertEqual(gradient, dout.p[i] / 0.7, accuracy: 1e-5) }
        }
        // The dropout is linear given its mask: the gradient check is exact up to rounding.
        let w = TestBuffer(normal: count, &random)
        let grad = TestBuffer(count: count)
        dropoutBackward(dinp: grad.p, dout: w.c, count: count, dropout: dropout, startIndex: 500)
        assertGradient("dropout dinp", input: inp, analytic: grad.array) {
            dropoutForward(out: out.p, inp: inp.c, count: count, dropout: dropout, startIndex: 500)
            return dot(w, out)
        }
    }

    /// `startIndex` places a buffer inside a larger site: pieces reproduce the whole.
    func testStartIndexMatchesSlicesOfTheWhole() {
        var random = TestRandom(seed: 52)
        let count = 517
        let dropout = Dropout(probability: 0.2, seed: 77, stream: 1)
        let inp = TestBuffer(normal: count, &random)
        let whole = TestBuffer(count: count), pieces = TestBuffer(count: count)
        dropoutForward(out: whole.p, inp: inp.c, count: count, dropout: dropout)
        dropoutForward(out: pieces.p, inp: inp.c, count: 200, dropout: dropout)
        dropoutForward(out: pieces.p + 200, inp: inp.c + 200, count: count - 200, dropout: dropout, startIndex: 200)
        XCTAssertEqual(whole.array, pieces.array)
    }
}
