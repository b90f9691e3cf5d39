import XCTest
@testable import Kernels

final class MatmulTests: XCTestCase {
    // Odd sizes (not multiples of 16) exercise every tail path.
    let rows = 7, inFeatures = 37, outFeatures = 19

    func testForwardMatchesNaive() {
        var random = TestRandom(seed: 1)
        let inp = TestBuffer(normal: rows * inFeatures, &random)
        let weight = TestBuffer(normal: outFeatures * inFeatures, &random)
        let bias = TestBuffer(normal: outFeatures, &random)
        for withBias in [true, false] {
            let fast = TestBuffer(count: rows * outFeatures, value: .nan)
            let naive = TestBuffer(count: rows * outFeatures)
            matmulForward(out: fast.p, inp: inp.c, weight: weight.c, bias: withBias ? bias.c : nil,
                          rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
            naiveMatmulForward(out: naive.p, inp: inp.c, weight: weight.c, bias: withBias ? bias.c : nil,
                               rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
            assertClose(fast, naive, absolute: 1e-5, relative: 1e-5, "matmulForward bias=\(withBias)")
        }
    }

    func testBackwardMatchesNaiveAndAccumulates() {
        var random = TestRandom(seed: 2)
        let inp = TestBuffer(normal: rows * inFeatures, &random)
        let weight = TestBuffer(normal: outFeatures * inFeatures, &random)
        let dout = TestBuffer(normal: rows * outFeatures, &random)
        // Gradients start non-zero: the backward must add to them.
        let dinp0 = TestBuffer(normal: rows * inFeatures, &random)
        let dweight0 = TestBuffer(normal: outFeatures * inFeatures, &random)
        let dbias0 = TestBuffer(normal: outFeatures, &random)
        let fast = [TestBuffer(copying: dinp0), TestBuffer(copying: dweight0), TestBuffer(copying: dbias0)]
        let naive = [TestBuffer(copying: dinp0), TestBuffer(copying: dweight0), TestBuffer(copying: dbias0)]
        matmulBackward(dinp: fast[0].p, dweight: fast[1].p, dbias: fast[2].p, dout: dout.c, inp: inp.c, weight: weight.c,
                       rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        naiveMatmulBackward(dinp: naive[0].p, dweight: naive[1].p, dbias: naive[2].p, dout: dout.c, inp: inp.c,
                            weight: weight.c, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        for (name, (f, n)) in zip(["dinp", "dweight", "dbias"], zip(fast, naive)) {
            assertClose(f, n, absolute: 1e-5, relative: 1e-5, "matmulBackward \(name)")
        }
    }

    func testGradientCheck() {
        var random = TestRandom(seed: 3)
        let (r, i, o) = (3, 5, 4)
        let inp = TestBuffer(normal: r * i, &random)
        let weight = TestBuffer(normal: o * i, &random)
        let bias = TestBuffer(normal: o, &random)
        let w = TestBuffer(normal: r * o, &random)
        let out = TestBuffer(count: r * o)
        let grads = [TestBuffer(normal: r * i, &random), TestBuffer(normal: o * i, &random), TestBuffer(normal: o, &random)]
        let before = grads.map { TestBuffer(copying: $0) }
        matmulBackward(dinp: grads[0].p, dweight: grads[1].p, dbias: grads[2].p, dout: w.c, inp: inp.c, weight: weight.c,
                       rows: r, inFeatures: i, outFeatures: o)
        let loss = { () -> Double in
            matmulForward(out: out.p, inp: inp.c, weight: weight.c, bias: bias.c, rows: r, inFeatures: i, outFeatures: o)
            return dot(w, out)
        }
        assertGradient("matmul dinp", input: inp, analytic: added(grads[0], since: before[0]), loss: loss)
        assertGradient("matmul dweight", input: weight, analytic: added(grads[1], since: before[1]), loss: loss)
        assertGradient("matmul dbias", input: bias, analytic: added(grads[2], since: before[2]), loss: loss)
    }

    func testGemmTransposesMatchNaive() {
        var random = TestRandom(seed: 4)
        let (m, n, k) = (5, 9, 17)
        let a = TestBuffer(normal: 40 * 40, &random)
        let b = TestBuffer(normal: 40 * 40, &random)
        for transA in [false, true] {
            for transB in [false, true] {
                let c0 = TestBuffer(normal: m * 23, &random)
                let fast = TestBuffer(copying: c0), naive = TestBuffer(copying: c0)
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: a.c, lda: 21, b: b.c, ldb: 19,
                     beta: 0.5, c: fast.p, ldc: 23)
                naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: a.c, lda: 21, b: b.c, ldb: 19,
                          beta: 0.5, c: naive.p, ldc: 23)
                assertClose(fast, naive, absolute: 1e-5, relative: 1e-5, "gemm transA=\(transA) transB=\(transB)")
            }
        }
    }

    /// Large enough to be split over the workers: by rows (tall) and by columns (wide), every transpose.
    func testParallelGemmMatchesNaive() {
        var random = TestRandom(seed: 5)
        for (m, n, k) in [(300, 40, 200), (20, 500, 300)] {
            let a = TestBuffer(normal: m * k, &random), b = TestBuffer(normal: k * n, &random)
            for transA in [false, true] {
                for transB in [false, true] {
                    let c0 = TestBuffer(normal: m * (n + 3), &random)
                    let fast = TestBuffer(copying: c0), naive = TestBuffer(copying: c0)
                    let (lda, ldb) = (transA ? m : k, transB ? k : n)
                    parallelGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.c, lda: lda, b: b.c,
                                 ldb: ldb, beta: 1, c: fast.p, ldc: n + 3)
                    naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.c, lda: lda, b: b.c,
                              ldb: ldb, beta: 1, c: naive.p, ldc: n + 3)
                    assertClose(fast, naive, absolute: 1e-4, relative: 1e-5, "parallelGemm \(m)x\(n)x\(k) transA=\(transA) transB=\(transB)")
                }
            }
        }
    }

    /// Big enough for the parallel bias fill and column sums (over a million outputs).
    func testLargeShapesMatchNaive() {
        var random = TestRandom(seed: 6)
        let (r, i, o) = (2003, 9, 611)
        let inp = TestBuffer(normal: r * i, &random), weight = TestBuffer(normal: o * i, &random)
        let bias = TestBuffer(normal: o, &random), dout = TestBuffer(normal: r * o, &random)
        let fast = TestBuffer(count: r * o), naive = TestBuffer(count: r * o)
        matmulForward(out: fast.p, inp: inp.c, weight: weight.c, bias: bias.c, rows: r, inFeatures: i, outFeatures: o)
        naiveMatmulForward(out: naive.p, inp: inp.c, weight: weight.c, bias: bias.c, rows: r, inFeatures: i, outFeatures: o)
        assertClose(fast, naive, absolute: 1e-5, relative: 1e-5, "large matmulForward")
        let start = [TestBuffer(normal: r * i, &random), TestBuffer(normal: o * i, &random), TestBuffer(normal: o, &random)]
        let f = start.map { TestBuffer(copying: $0) }, n = start.map { TestBuffer(copying: $0) }
        matmulBackward(dinp: f[0].p, dweight: f[1].p, dbias: f[2].p, dout: dout.c, inp: inp.c, weight: weight.c,
                       rows: r, inFeatures: i, outFeatures: o)
        naiveMatmulBackward(dinp: n[0].p, dweight: n[1].p, dbias: n[2].p, dout: dout.c, inp: inp.c, weight: weight.c,
                            rows: r, inFeatures: i, outFeatures: o)
        for (name, (a, b)) in zip(["dinp", "dweight", "dbias"], zip(f, n)) {
            assertClose(a, b, absolute: 1e-4, relative: 1e-5, "large matmulBackward \(name)")
        }
    }
}
