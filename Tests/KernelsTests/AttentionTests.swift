import XCTest
@testable import Kernels

final class AttentionTests: XCTestCase {
    struct Shape { let batch: Int, seqLen: Int, channels: Int, heads: Int }

    /// Batch row 1 has 2 padding keys; row 0 has none.
    func makeMask(_ s: Shape) -> [Int32] {
        var mask = [Int32](repeating: 1, count: s.batch * s.seqLen)
        if s.batch > 1 { for t in (s.seqLen - 2)..<s.seqLen { mask[s.seqLen + t] = 0 } }
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
        // Padding keys get (numerically) zero probability.
        if B > 1 {
            for h in 0..<NH {
                for i in 0..<T {
                    XCTAssertLessThan(probs.p[((1 * NH + h) * T + i) * T + T - 1], 1e-30, "padding key must get no weight")
                }
            }
        }
    }

    func testMatchesNaiveOddSizes() {
        compareWithNaive(Shape(batch: 2, seqLen: 7, channels: 12, heads: 3), dropout: nil, seed: 60)
        compareWithNaive(Shape(batch: 3, seqLen: 37, channels: 20, heads: 2), dropout: nil, seed: 61)
    }

    func testMatchesNaiveWithDropout() {
        compareWithNaive(Shape(batch: 2, seqLen: 19, channels: 12, heads: 3),
                         dropout: Dropout(probability: 0.25, seed: 3, stream: 11), seed: 62)
    }

    func testGradientCheck() {
        for dropout in [nil, Dropout(probability: 0.3, seed: 8, stream: 2)] {
            var random = TestRandom(seed: 63)
            let s = Shape(batch: 2, seqLen: 5, channels: 6, heads: 2)
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
}
