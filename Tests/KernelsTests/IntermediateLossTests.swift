import Foundation
import XCTest
@testable import Kernels

/// The loss kernels of intermediate-layer distillation against their naive twins (padding at the end and
/// inside a sequence, in place and not), the KL gradient against finite differences of the scores, the
/// vector log against libm, and the attention backward's extra score gradient against its naive twin.
final class IntermediateLossTests: XCTestCase {
    /// Sequence 0 is full, 1 has two padding tokens at the end, 2 padding inside and at the end.
    func mask(batch: Int, seqLen T: Int) -> [Int32] {
        var mask = [Int32](repeating: 1, count: batch * T)
        for t in (T - 2)..<T { mask[T + t] = 0 }
        for t in [1, 4, T - 1] { mask[2 * T + t] = 0 }
        return mask
    }

    /// Softmax rows over the real keys of each sequence (0 at padding keys), from scores `scale ×` N(0, 1).
    func distributions(batch: Int, heads: Int, seqLen T: Int, mask: [Int32], scale: Float, _ random: inout TestRandom) -> TestBuffer {
        let probs = TestBuffer(count: batch * heads * T * T)
        for b in 0..<batch {
            for row in 0..<(heads * T) {
                let base = (b * heads * T + row) * T
                var scores = (0..<T).map { _ in random.normal() * scale }
                for j in 0..<T where mask[b * T + j] == 0 { scores[j] = -.infinity }
                let top = scores.max()!
                let e = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - top) }
                let sum = e.reduce(0, +)
                for j in 0..<T { probs.p[base + j] = e[j] / sum }
            }
        }
        return probs
    }

    func testMaskedSquaredErrorMatchesNaive() {
        var random = TestRandom(seed: 901)
        let (N, C) = (3 * 21, 37)
        let mask = self.mask(batch: 3, seqLen: 21)
        let student = TestBuffer(normal: N * C, &random), teacher = TestBuffer(normal: N * C, &random)
        let d = TestBuffer(count: N * C, value: 9), nd = TestBuffer(count: N * C, value: 9)
        let (sum, naive) = mask.withUnsafeBufferPointer { m in
            (maskedSquaredError(student: student.c, teacher: teacher.c, dStudent: d.p, tokenMask: m.baseAddress!, tokens: N,
                                channels: C, gradientScale: 0.3),
             naiveMaskedSquaredError(student: student.c, teacher: teacher.c, dStudent: nd.p, tokenMask: m.baseAddress!,
                                     tokens: N, channels: C, gradientScale: 0.3))
        }
        XCTAssertEqual(sum, naive, accuracy: 1e-5 * naive)
        assertClose(d, nd, absolute: 1e-6, relative: 1e-6, "gradient")
        // In place: the teacher's buffer becomes the gradient.
        let inPlace = TestBuffer(copying: teacher)
        let again = mask.withUnsafeBufferPointer {
            maskedSquaredError(student: student.c, teacher: inPlace.c, dStudent: inPlace.p, tokenMask: $0.baseAddress!, tokens: N,
                               channels: C, gradientScale: 0.3)
        }
        XCTAssertEqual(again, sum)
        XCTAssertEqual(inPlace.array, d.array)
    }

    func testAttentionKLMatchesNaiveInPlaceAndWithPadding() {
        var random = TestRandom(seed: 902)
        let (B, NH, T) = (3, 2, 23)
        let mask = self.mask(batch: B, seqLen: T)
        let student = distributions(batch: B, heads: NH, seqLen: T, mask: mask, scale: 3, &random)
        let teacher = distributions(batch: B, heads: NH, seqLen: T, mask: mask, scale: 3, &random)
        student.p[5] = 0  // an underflowed student probability: counted as the smallest normal float
        let nd = TestBuffer(count: student.count, value: 9), d = TestBuffer(copying: teacher)
        let (sum, naive) = mask.withUnsafeBufferPointer { m in
            (attentionKLDivergence(student: student.c, teacher: d.c, dScores: d.p, keyMask: m.baseAddress!, batch: B, heads: NH,
                                   seqLen: T, gradientScale: 0.7),
             naiveAttentionKLDivergence(student: student.c, teacher: teacher.c, dScores: nd.p, keyMask: m.baseAddress!, batch: B,
                                        heads: NH, seqLen: T, gradientScale: 0.7))
        }
        XCTAssertEqual(sum, naive, accuracy: 1e-5 * naive)
        XCTAssertGreaterThan(naive, 1)
        assertClose(d, nd, absolute: 1e-7, relative: 1e-6, "score gradient")
        // Padding query rows and keys get no gradient.
        XCTAssertTrue((0..<T).allSatisfy { d.p[((1 * NH + 0) * T + (T - 1)) * T + $0] == 0 })
        XCTAssertTrue((0..<T).allSatisfy { d.p[((2 * NH + 1) * T + $0) * T + 4] == 0 })
    }

    /// d/d(scores) of Σ KL(t ‖ softmax(scores)) over one real row is softmax(scores) − t: central differences
    /// of the naive loss in double agree.
    func testKLGradientIsTheScoreGradient() {
        var random = TestRandom(seed: 903)
        let T = 9
        let mask = [Int32](repeating: 1, count: T - 2) + [0, 0]
        let scores = (0..<T).map { _ in Double(random.normal()) }
        let teacher = distributions(batch: 1, heads: 1, seqLen: T, mask: mask, scale: 2, &random)
        func softmax(_ s: [Double]) -> [Double] {
            let real = (0..<T).filter { mask[$0] != 0 }
            let top = real.map { s[$0] }.max()!
            let e = (0..<T).map { mask[$0] != 0 ? Foundation.exp(s[$0] - top) : 0 }
            return e.map { $0 / e.reduce(0, +) }
        }
        func loss(_ s: [Double]) -> Double {
            let p = softmax(s)
            return (0..<T).reduce(0) { total, j in
                let t = Double(teacher.p[j])
                return mask[j] == 0 || t == 0 ? total : total + t * (Foundation.log(t) - Foundation.log(p[j]))
            }
        }
        let student = TestBuffer(count: T * T), d = TestBuffer(count: T * T)
        let probs = softmax(scores)
        for j in 0..<T { student.p[j] = Float(probs[j]) }
        for i in 1..<T { for j in 0..<T { student.p[i * T + j] = teacher.p[i * T + j] } }  // rows 1… contribute nothing
        _ = mask.withUnsafeBufferPointer {
            attentionKLDivergence(student: student.c, teacher: teacher.c, dScores: d.p, keyMask: $0.baseAddress!, batch: 1, heads: 1,
                                  seqLen: T, gradientScale: 1)
        }
        for j in 0..<T {
            var plus = scores, minus = scores
            plus[j] += 1e-5
            minus[j] -= 1e-5
            let numeric = (loss(plus) - loss(minus)) / 2e-5
            XCTAssertEqual(Double(d.p[j]), numeric, accuracy: 1e-6, "score \(j)")
        }
    }

    func testVectorLogMatchesLibm() {
        var worst: Double = 0
        var x: Float = 1e-30
        while x < 1e30 {
            let lanes = Vec16((0..<16).map { x * (1 + Float($0) / 16) })
            let ours = vlog(lanes)
            for i in 0..<16 {
                let exact = Foundation.log(Double(lanes[i]))
                worst = max(worst, abs(Double(ours[i]) - exact) / max(1, abs(exact)))
            }
            x *= 1.37
        }
        XCTAssertLessThanOrEqual(worst, 3e-7)
        XCTAssertEqual(vlog(Vec16(repeating: 0))[0], Float(Foundation.log(Double(Float.leastNormalMagnitude))), accuracy: 1e-4)
    }

    func testAttentionBackwardExtraScoreGradientMatchesNaive() {
        var random = TestRandom(seed: 904)
        let (B, T, C, NH) = (3, 17, 24, 2)
        let mask = self.mask(batch: B, seqLen: T)
        let qkv = TestBuffer(normal: B * T * 3 * C, &random)
        let probs = TestBuffer(count: B * NH * T * T), out = TestBuffer(count: B * T * C)
        let dout = TestBuffer(normal: B * T * C, &random)
        let extra = TestBuffer(normal: B * NH * T * T, &random, scale: 0.1)
        for b in 0..<B { for r in 0..<(NH * T) { for j in 0..<T where mask[b * T + j] == 0 { extra.p[(b * NH * T + r) * T + j] = 0 } } }
        let dqkv = TestBuffer(count: B * T * 3 * C), naive = TestBuffer(count: B * T * 3 * C), without = TestBuffer(count: B * T * 3 * C)
        mask.withUnsafeBufferPointer { m in
            attentionForward(out: out.p, probs: probs.p, qkv: qkv.c, keyMask: m.baseAddress!, batch: B, seqLen: T, channels: C,
                             heads: NH, dropout: nil)
            attentionBackward(dqkv: dqkv.p, dout: dout.c, qkv: qkv.c, probs: probs.c, keyMask: m.baseAddress!, batch: B, seqLen: T,
                              channels: C, heads: NH, dropout: nil, dScores: extra.c)
            naiveAttentionBackward(dqkv: naive.p, dout: dout.c, qkv: qkv.c, probs: probs.c, keyMask: m.baseAddress!, batch: B,
                                   seqLen: T, channels: C, heads: NH, dropout: nil, dScores: extra.c)
            attentionBackward(dqkv: without.p, dout: dout.c, qkv: qkv.c, probs: probs.c, keyMask: m.baseAddress!, batch: B,
                              seqLen: T, channels: C, heads: NH, dropout: nil)
        }
        assertClose(dqkv, naive, absolute: 1e-5, relative: 1e-4, "dqkv with an extra score gradient")
        let moved = zip(dqkv.array, without.array).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(moved, 1e-2, "the extra gradient must reach q and k")
    }
}
