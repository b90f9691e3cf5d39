import XCTest
@testable import Kernels

/// Max absolute error of the polynomial erf against libm (measured 4.2e-7 near |x| = 3.3).
let erfErrorBound: Float = 4.5e-7

final class GELUTests: XCTestCase {
    func testForwardAndBackwardMatchNaive() {
        var random = TestRandom(seed: 20)
        for count in [7 * 37, 300_001] {  // a tail-only size and one that takes the parallel path
            let inp = TestBuffer(normal: count, &random, scale: 3)
            let fast = TestBuffer(count: count), naive = TestBuffer(count: count)
            geluForward(out: fast.p, inp: inp.c, count: count)
            naiveGeluForward(out: naive.p, inp: inp.c, count: count)
            // The error is the erf error scaled by x/2 (erf is within 4.5e-7 of libm, see the test below)
            // plus float rounding of the result.
            for i in 0..<count {
                let bound = 0.5 * abs(inp.p[i]) * erfErrorBound + 1.2e-7 * max(abs(naive.p[i]), 1)
                if abs(fast.p[i] - naive.p[i]) > bound {
                    XCTFail("geluForward x = \(inp.p[i]): \(fast.p[i]) vs \(naive.p[i]) (bound \(bound))")
                    break
                }
            }
            let dout = TestBuffer(normal: count, &random)
            let start = TestBuffer(normal: count, &random)
            let dFast = TestBuffer(copying: start), dNaive = TestBuffer(copying: start)
            geluBackward(dinp: dFast.p, inp: inp.c, dout: dout.c, count: count)
            naiveGeluBackward(dinp: dNaive.p, inp: inp.c, dout: dout.c, count: count)
            assertClose(dFast, dNaive, absolute: 2e-6, relative: 2e-6, "geluBackward count=\(count)")
            // Written, not accumulated, in place over the output gradient (the training layer's use).
            let inPlace = TestBuffer(copying: dout), fromZero = TestBuffer(count: count)
            geluBackward(dinp: inPlace.p, inp: inp.c, dout: inPlace.c, count: count, accumulate: false)
            naiveGeluBackward(dinp: fromZero.p, inp: inp.c, dout: dout.c, count: count)
            assertClose(inPlace, fromZero, absolute: 2e-6, relative: 2e-6, "geluBackward in place count=\(count)")
        }
    }

    /// The polynomial erf against libm erf over [-6, 6] (beyond ±4 erf is ±1 in float).
    func testErfMaxErrorAgainstFoundation() {
        var worst: Double = 0, worstX: Float = 0
        var x: Float = -6
        while x < 6 {
            var lanes = Vec16()
            for l in 0..<16 { lanes[l] = x + Float(l) * 1e-4 }
            let approx = verf(lanes)
            for l in 0..<16 {
                let error = abs(Double(approx[l]) - Foundation.erf(Double(lanes[l])))
                if error > worst { worst = error; worstX = lanes[l] }
            }
            x += 16e-4
        }
        XCTAssertLessThan(worst, Double(erfErrorBound), "erf max abs error \(worst) at x = \(worstX)")
    }

    func testExpRelativeErrorAgainstFoundation() {
        var worst: Double = 0, worstX: Float = 0
        var x: Float = -87
        while x < 88 {
            var lanes = Vec16()
            for l in 0..<16 { lanes[l] = x + Float(l) * 1e-3 }
            let approx = vexp(lanes)
            for l in 0..<16 {
                let exact = Foundation.exp(Double(lanes[l]))
                let error = abs(Double(approx[l]) - exact) / exact
                if error > worst { worst = error; worstX = lanes[l] }
            }
            x += 16e-3
        }
        XCTAssertLessThan(worst, 3e-7, "exp max relative error \(worst) at x = \(worstX)")
        XCTAssertEqual(vexp(Vec16(repeating: -1e4))[0], 0, "exp of a masked score must underflow to 0")
    }

    func testGradientCheck() {
        var random = TestRandom(seed: 21)
        let count = 37
        let inp = TestBuffer(normal: count, &random, scale: 2)
        let out = TestBuffer(count: count), w = TestBuffer(normal: count, &random)
        let grad = TestBuffer(normal: count, &random), before = TestBuffer(copying: grad)
        geluBackward(dinp: grad.p, inp: inp.c, dout: w.c, count: count)
        assertGradient("gelu dinp", input: inp, analytic: added(grad, since: before)) {
            geluForward(out: out.p, inp: inp.c, count: count)
            return dot(w, out)
        }
    }
}
