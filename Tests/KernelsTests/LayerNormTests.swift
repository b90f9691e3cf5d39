import XCTest
@testable import Kernels

final class LayerNormTests: XCTestCase {
    func testForwardAndBackwardMatchNaive() {
        var random = TestRandom(seed: 10)
        let (rows, channels) = (7, 37)
        // An offset mean and a large spread, as in post-LN residual streams.
        let inp = TestBuffer(count: rows * channels)
        for i in 0..<inp.count { inp.p[i] = 3 + 2 * random.normal() }
        let weight = TestBuffer(normal: channels, &random), bias = TestBuffer(normal: channels, &random)
        let out = TestBuffer(count: rows * channels), mean = TestBuffer(count: rows), rstd = TestBuffer(count: rows)
        let nOut = TestBuffer(count: rows * channels), nMean = TestBuffer(count: rows), nRstd = TestBuffer(count: rows)
        layerNormForward(out: out.p, mean: mean.p, rstd: rstd.p, inp: inp.c, weight: weight.c, bias: bias.c,
                         rows: rows, channels: channels, eps: 1e-12)
        naiveLayerNormForward(out: nOut.p, mean: nMean.p, rstd: nRstd.p, inp: inp.c, weight: weight.c, bias: bias.c,
                              rows: rows, channels: channels, eps: 1e-12)
        assertClose(out, nOut, absolute: 2e-5, relative: 1e-5, "layerNorm out")
        assertClose(mean, nMean, absolute: 1e-6, relative: 1e-6, "layerNorm mean")
        assertClose(rstd, nRstd, absolute: 0, relative: 1e-5, "layerNorm rstd")

        let dout = TestBuffer(normal: rows * channels, &random)
        let start = [TestBuffer(normal: rows * channels, &random), TestBuffer(normal: channels, &random),
                     TestBuffer(normal: channels, &random)]
        let fast = start.map { TestBuffer(copying: $0) }, naive = start.map { TestBuffer(copying: $0) }
        layerNormBackward(dinp: fast[0].p, dweight: fast[1].p, dbias: fast[2].p, dout: dout.c, inp: inp.c,
                          weight: weight.c, mean: mean.c, rstd: rstd.c, rows: rows, channels: channels)
        naiveLayerNormBackward(dinp: naive[0].p, dweight: naive[1].p, dbias: naive[2].p, dout: dout.c, inp: inp.c,
                               weight: weight.c, mean: mean.c, rstd: rstd.c, rows: rows, channels: channels)
        for (name, (f, n)) in zip(["dinp", "dweight", "dbias"], zip(fast, naive)) {
            assertClose(f, n, absolute: 2e-5, relative: 1e-5, "layerNormBackward \(name)")
        }
    }

    /// Large enough to take the parallel path (per-worker dweight/dbias partials).
    func testParallelBackwardMatchesNaive() {
        var random = TestRandom(seed: 11)
        let (rows, channels) = (700, 389)
        let inp = TestBuffer(normal: rows * channels, &random)
        let weight = TestBuffer(normal: channels, &random), bias = TestBuffer(normal: channels, &random)
        let out = TestBuffer(count: rows * channels), mean = TestBuffer(count: rows), rstd = TestBuffer(count: rows)
        layerNormForward(out: out.p, mean: mean.p, rstd: rstd.p, inp: inp.c, weight: weight.c, bias: bias.c,
                         rows: rows, channels: channels, eps: 1e-5)
        let dout = TestBuffer(normal: rows * channels, &random)
        let fast = [TestBuffer(count: rows * channels), TestBuffer(count: channels), TestBuffer(count: channels)]
        let naive = [TestBuffer(count: rows * channels), TestBuffer(count: channels), TestBuffer(count: channels)]
        layerNormBackward(dinp: fast[0].p, dweight: fast[1].p, dbias: fast[2].p, dout: dout.c, inp: inp.c,
                          weight: weight.c, mean: mean.c, rstd: rstd.c, rows: rows, channels: channels)
        naiveLayerNormBackward(dinp: naive[0].p, dweight: naive[1].p, dbias: naive[2].p, dout: dout.c, inp: inp.c,
                               weight: weight.c, mean: mean.c, rstd: rstd.c, rows: rows, channels: channels)
        for (name, (f, n)) in zip(["dinp", "dweight", "dbias"], zip(fast, naive)) {
            assertClose(f, n, absolute: 2e-4, relative: 1e-4, "parallel layerNormBackward \(name)")
        }
        // Written, not accumulated: the same values over garbage as accumulated into zeros.
        let written = TestBuffer(count: rows * channels, value: .nan), dw = TestBuffer(count: channels), db = TestBuffer(count: channels)
        layerNormBackward(dinp: written.p, dweight: dw.p, dbias: db.p, dout: dout.c, inp: inp.c, weight: weight.c, mean: mean.c,
                          rstd: rstd.c, rows: rows, channels: channels, accumulate: false)
        XCTAssertEqual(written.array, fast[0].array, "layerNormBackward without accumulate")
        XCTAssertEqual(dw.array, fast[1].array)
    }

    func testGradientCheck() {
        var random = TestRandom(seed: 12)
        let (rows, channels) = (3, 19)
        let inp = TestBuffer(normal: rows * channels, &random)
        let weight = TestBuffer(normal: channels, &random), bias = TestBuffer(normal: channels, &random)
        let out = TestBuffer(count: rows * channels), mean = TestBuffer(count: rows), rstd = TestBuffer(count: rows)
        let w = TestBuffer(normal: rows * channels, &random)
        let loss = { () -> Double in
            layerNormForward(out: out.p, mean: mean.p, rstd: rstd.p, inp: inp.c, weight: weight.c, bias: bias.c,
                             rows: rows, channels: channels, eps: 1e-5)
            return dot(w, out)
        }
        _ = loss()
        let grads = [TestBuffer(normal: rows * channels, &random), TestBuffer(normal: channels, &random),
                     TestBuffer(normal: channels, &random)]
        let before = grads.map { TestBuffer(copying: $0) }
        layerNormBackward(dinp: grads[0].p, dweight: grads[1].p, dbias: grads[2].p, dout: w.c, inp: inp.c,
                          weight: weight.c, mean: mean.c, rstd: rstd.c, rows: rows, channels: channels)
        assertGradient("layerNorm dinp", input: inp, analytic: added(grads[0], since: before[0]), loss: loss)
        assertGradient("layerNorm dweight", input: weight, analytic: added(grads[1], since: before[1]), loss: loss)
        assertGradient("layerNorm dbias", input: bias, analytic: added(grads[2], since: before[2]), loss: loss)
    }
}
