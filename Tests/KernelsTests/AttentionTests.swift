import XCTest
@testable import Kernels

final class AttentionTests: XCTestCase {
    struct Shape { let batch: Int, seqLen: Int, channels: Int, heads: Int }

    /// Sequence 0 has no padding, 1 has 2 padding keys at the end (the suffix fast path), 2 has
    /// padding inside and at the end, 3 is all padding (every score shifted by the same -1e4, so the
    /// softmax is that of the unmasked scores, as in Hugging Face).
    func makeMask(_ s: Shape) -> [Int32] {
        var mask = [Int32](repeating: 1, count: s.batch * s.seqLen)
        let T = s.seqLen
        if s.batch > 1 { for t in (T - 2)..<T { mask[T + t] = 0 } }
        if s.batch > 2 { for t in [1, 3, T - 1] { mask[2 * T + t] = 0 } }
        if s.batch > 3 { for t in 0..<T { mask[3 * T + t] = 0 } }
        return mask
    }

    func compareWithNaive(_ s: Shape, dropout: Dropout?, seed: UInt64) {
        var random = TestRandom(seed: seed)
        let (B, T, C, NH) = (s.batch, s.seqLen, s.channels, s.heads)
        let qkv = TestBuffer(normal: B * T * 3 * C, &random)
        let mask = makeMask(s)
        let out = TestBuffer(count: B * T * C), probs = TestBuffer(count: B * NH * T * T)
        let nOut = TestBuffer(count: B * T * C), nProbs = TestBuffer(count: B * NH * T * T)
        let dout = TestBuffer(normal: B * T * C, &random)
        let start = TestBuffer(normal: B * T * 3 * C, &random)
        let dqkv = TestBuffer(copying: start), nDqkv = TestBuffer(copying: start)
        mask.withUnsafeBufferPointer { m in
            attentionForward(out: out.p, probs: probs.p, qkv: qkv.c, keyMask: m.baseAddress!,
                             batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
            naiveAttentionForward(out: nOut.p, probs: nProbs.p, qkv: qkv.c, keyMask: m.baseAddress!,
                                  batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
            attentionBackward(dqkv: dqkv.p, dout: dout.c, qkv: qkv.c, probs: probs.c, keyMask: m.baseAddress!,
                              batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
            naiveAttentionBackward(dqkv: nDqkv.p, dout: dout.c, qkv: qkv.c, probs: nProbs.c, keyMask: m.baseAddress!,
                                   batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
        }
        let label = "B\(B) T\(T) C\(C) NH\(NH) dropout \(dropout?.probability ?? 0)"
        assertClose(probs, nProbs, absolute: 1e-6, relative: 1e-5, "attention probs \(label)")
        assertClose(out, nOut, absolute: 1e-5, relative: 1e-4, "attention out \(label)")
        assertClose(dqkv, nDqkv, absolute: 1e-5, relative: 1e-4, "attention dqkv \(label)")
        // Padding keys get zero probability.
        for h in 0..<NH {
            for i in 0..<T {
                if B > 2 {
                    XCTAssertEqual(probs.p[((1 * NH + h) * T + i) * T + T - 1], 0, "padding key must get no weight")
                    XCTAssertEqual(probs.p[((2 * NH + h) * T + i) * T + 1], 0, "interior padding key must get no weight")
                }
            }
        }
    }

    func testMatchesNaiveOddSizes() {
        compareWithNaive(Shape(batch: 2, seqLen: 7, channels: 12, heads: 3), dropout: nil, seed: 60)
        compareWithNaive(Shape(batch: 4, seqLen: 37, channels: 20, heads: 2), dropout: nil, seed: 61)
    }

    /// Head dim 32 runs the direct kernels of AttentionProducts.swift, head dim 24 the BLAS path.
    /// Batch 3 (no all-padding sequence): there every score is shifted by -1e4, where float's grid
    /// is 2^-10, so a 3e-7 difference in a 32-term float dot product (any summation order against
    /// the reference's double) moves a probability by ~1e-3 relative on a few of ~10^3 entries.
    /// The all-padding row takes no code path of its own in the products (it is a full row, L = T).
    func testMatchesNaiveHeadDim32And24() {
        compareWithNaive(Shape(batch: 3, seqLen: 19, channels: 64, heads: 2), dropout: nil, seed: 65)
        compareWithNaive(Shape(batch: 3, seqLen: 37, channels: 96, heads: 3), dropout: nil, seed: 66)
        compareWithNaive(Shape(batch: 3, seqLen: 37, channels: 48, heads: 2), dropout: nil, seed: 67)
        for (channels, heads) in [(64, 2), (48, 2)] {
            compareWithNaive(Shape(batch: 3, seqLen: 19, channels: channels, heads: heads),
                             dropout: Dropout(probability: 0.25, seed: 5, stream: 7), seed: 68)
        }
    }

    func testMatchesNaiveWithDropout() {
        compareWithNaive(Shape(batch: 4, seqLen: 19, channels: 12, heads: 3),
                         dropout: Dropout(probability: 0.25, seed: 3, stream: 11), seed: 62)
    }

    func testGradientCheck() {
        for dropout in [nil, Dropout(probability: 0.3, seed: 8, stream: 2)] {
            var random = TestRandom(seed: 63)
            // No all-padding sequence here: scores shifted by -1e4 are quantised to ~1e-3 in float,
            // which a finite difference with h = 1e-2 cannot resolve (the naive comparison covers it).
            let s = Shape(batch: 3, seqLen: 5, channels: 6, heads: 2)
            let (B, T, C, NH) = (s.batch, s.seqLen, s.channels, s.heads)
            let qkv = TestBuffer(normal: B * T * 3 * C, &random)
            let mask = makeMask(s)
            let out = TestBuffer(count: B * T * C), probs = TestBuffer(count: B * NH * T * T)
            let w = TestBuffer(normal: B * T * C, &random)
            let grad = TestBuffer(normal: B * T * 3 * C, &random), before = TestBuffer(copying: grad)
            mask.withUnsafeBufferPointer { m in
                let loss = { () -> Double in
                    attentionForward(out: out.p, probs: probs.p, qkv: qkv.c, keyMask: m.baseAddress!,
                                     batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
                    return dot(w, out)
                }
                _ = loss()
                attentionBackward(dqkv: grad.p, dout: w.c, qkv: qkv.c, probs: probs.c, keyMask: m.baseAddress!,
                                  batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
                assertGradient("attention dqkv dropout \(dropout?.probability ?? 0)", input: qkv,
                               analytic: added(grad, since: before), loss: loss)
            }
        }
    }

    /// Inference (no saved probabilities) gives the same output as training mode.
    func testForwardWithoutSavedProbabilities() {
        checkForwardWithoutSavedProbabilities(Shape(batch: 4, seqLen: 23, channels: 12, heads: 3))
    }

    /// The same at head dim 32 (the direct kernels; batch 3 as in `testMatchesNaiveHeadDim32And24`).
    func testForwardWithoutSavedProbabilitiesHeadDim32() {
        checkForwardWithoutSavedProbabilities(Shape(batch: 3, seqLen: 37, channels: 64, heads: 2))
    }

    func checkForwardWithoutSavedProbabilities(_ s: Shape) {
        for dropout in [nil, Dropout(probability: 0.2, seed: 4, stream: 9)] {
            var random = TestRandom(seed: 64)
            let (B, T, C, NH) = (s.batch, s.seqLen, s.channels, s.heads)
            let qkv = TestBuffer(normal: B * T * 3 * C, &random)
            let mask = makeMask(s)
            let saved = TestBuffer(count: B * T * C), unsaved = TestBuffer(count: B * T * C), naive = TestBuffer(count: B * T * C)
            let probs = TestBuffer(count: B * NH * T * T)
            mask.withUnsafeBufferPointer { m in
                attentionForward(out: saved.p, probs: probs.p, qkv: qkv.c, keyMask: m.baseAddress!,
                                 batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
                attentionForward(out: unsaved.p, probs: nil, qkv: qkv.c, keyMask: m.baseAddress!,
                                 batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
                naiveAttentionForward(out: naive.p, probs: nil, qkv: qkv.c, keyMask: m.baseAddress!,
                                      batch: B, seqLen: T, channels: C, heads: NH, dropout: dropout)
            }
            XCTAssertEqual(unsaved.array, saved.array, "probs: nil must not change the output")
            assertClose(unsaved, naive, absolute: 1e-5, relative: 1e-4, "attention without saved probs vs naive")
        }
    }
}
