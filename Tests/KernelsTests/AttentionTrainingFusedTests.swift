import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The fused training attention (`attentionForwardBF16Fused`, `attentionBackwardBF16Fused`) on AMX tiles and on
/// AVX-512 BF16, against the plain attention in Double (`naiveAttentionForward`, `naiveAttentionBackward`) run on the
/// same bf16 q, k, v and output gradient, with and without dropout. Every element gets its own bound, computed from
/// the reference's values:
/// - each probability p is off by a relative εp: e^x (2.7e-6 + 1.24e-7·|y|), the fp32 score sums (γ_D·Σ|q k|·scale,
///   twice: numerator and maximum), the sum of L exponentials (γ_L) and the products with 1/sum;
/// - the probabilities and dS are rounded to bf16 (≤ 2⁻⁸ relative each) before their products, whose fp32 sums add γ;
/// - dS = p ⊙ (g − Σ p g), with g = dout·v through the dropout (fp32 sums of D terms) and Σ p g of L terms.
/// A mutation that drops the dropout mask, the bias or the scale fails every case by far more than these bounds.
final class AttentionTrainingFusedTests: XCTestCase {
    func testFusedTrainingAttentionMatchesThePlainOneWithBounds() throws {
        let saved = (LowPrecision.backend, AttentionAMX.tiles)
        defer { (LowPrecision.backend, AttentionAMX.tiles) = saved }
        LowPrecision.backend = .onednn
        var paths: [(String, Bool)] = []
        if AttentionAMX.runs(headSize: 32) { paths.append(("AMX", true)) }
        AttentionAMX.tiles = false
        if FusedTrainingAttention.runs(headSize: 32) { paths.append(("AVX-512 BF16", false)) }
        AttentionAMX.tiles = true
        guard !paths.isEmpty else {
            // No AVX-512 BF16 here (or capped below it): the model runs the twin, which LowPrecisionTests covers.
            XCTAssertFalse(FusedTrainingAttention.runs(headSize: 32))
            return
        }
        var random = TestRandom(seed: 91)
        for (C, heads) in [(64, 2), (128, 2)] {
            for T in [37, 90] {
                for withDropout in [false, true] {
                    let dropout = withDropout ? Dropout(probability: 0.1, seed: 7, stream: UInt64(T)) : nil
                    for (name, tiles) in paths {
                        AttentionAMX.tiles = tiles
                        try check(T: T, C: C, heads: heads, dropout: dropout, &random, "\(name) D=\(C / heads) T=\(T) dropout \(withDropout)")
                    }
                    AttentionAMX.tiles = true
                }
            }
        }
    }

    private func check(T: Int, C: Int, heads: Int, dropout: Dropout?, _ random: inout TestRandom, _ label: String) throws {
        let input = RoundedAttentionCase(T: T, C: C, heads: heads, &random)
        let (batch, qkv, mask) = (input.batch, input.qkv, input.mask)
        let D = C / heads, scale = 1 / Double(D).squareRoot()
        let dout = TestBuffer(normal: batch * T * C, &random)
        for i in 0..<dout.count { dout.p[i] = float(bfloat16: bfloat16(dout.p[i])) }
        // The reference, in Double.
        let probs = TestBuffer(count: batch * heads * T * T)
        let naive = TestBuffer(count: batch * T * C), naiveGrad = TestBuffer(count: batch * T * 3 * C)
        naiveAttentionForward(out: naive.p, probs: probs.p, qkv: qkv.c, keyMask: mask, batch: batch, seqLen: T, channels: C,
                              heads: heads, dropout: dropout)
        naiveAttentionBackward(dqkv: naiveGrad.p, dout: dout.c, qkv: qkv.c, probs: probs.c, keyMask: mask, batch: batch, seqLen: T,
                               channels: C, heads: heads, dropout: dropout)
        // The fused kernels.
        let out = TestBuffer(count: batch * T * C, value: .nan)
        let saved = TestBuffer(count: FusedTrainingAttention.savedFloats(batch: batch, heads: heads, seqLen: T, dropout: dropout != nil))
        let grad = TestBuffer(count: batch * T * 3 * C, value: .nan)  // written, not accumulated: every element
        let qkvScratch = BF16Buffer.allocate(capacity: batch * T * 3 * C), doutScratch = BF16Buffer.allocate(capacity: batch * T * C)
        defer { qkvScratch.deallocate(); doutScratch.deallocate() }
        convertToBF16(out: qkvScratch, inp: qkv.c, count: batch * T * 3 * C)
        attentionForwardBF16Fused(out: out.p, saved: saved.p, qkv16: qkvScratch, keyMask: mask, batch: batch, seqLen: T, channels: C,
                                  heads: heads, dropout: dropout)
        attentionBackwardBF16Fused(dqkv: grad.p, dout: dout.c, qkv16: qkvScratch, saved: saved.p, keyMask: mask, batch: batch,
                                   seqLen: T, channels: C, heads: heads, dropout: dropout, doutScratch: doutScratch)
        // Bounds, per element.
        let keep = Double(dropout?.keepScale ?? 1)
        let x = { (b: Int, t: Int, part: Int, h: Int, d: Int) in Double(qkv.p[(b * T + t) * 3 * C + part * C + h * D + d]) }
        let g = { (b: Int, t: Int, h: Int, d: Int) in Double(dout.p[(b * T + t) * C + h * D + d]) }
        let outBound = TestBuffer(count: out.count), gradBound = TestBuffer(count: grad.count)
        let u = 0x1p-24, half = 0x1p-8
        for b in 0..<batch {
            for h in 0..<heads {
                let pair = b * heads + h
                var maxScore = 0.0  // Σ_d |q_d k_d| · scale, the largest of the head
                for i in 0..<T { for j in 0..<T { maxScore = max(maxScore, (0..<D).reduce(0) { $0 + abs(x(b, i, 0, h, $1) * x(b, j, 1, h, $1)) } * scale) } }
                let ep = 2 * (2.7e-6 + 1.24e-7 * log2(Double(T)) + 4 * u) + 4 * gamma(D + 1) * maxScore + 2 * gamma(T) + 4 * u
                // Per row: the dropped probabilities, g = d(dropped P) through the mask, Σ p g, dS and their errors.
                var pd = [Double](repeating: 0, count: T * T), ds = pd, dsError = pd
                for i in 0..<T {
                    var gp = [Double](repeating: 0, count: T), gpError = gp, sum = 0.0, sumAbs = 0.0
                    for j in 0..<T {
                        let index = pair * T * T + i * T + j
                        let kept = dropout.map { $0.keeps(index) ? keep : 0 } ?? 1
                        let p = Double(probs.p[index])
                        pd[i * T + j] = p * kept
                        let dots = (0..<D).map { g(b, i, h, $0) * x(b, j, 2, h, $0) }
                        gp[j] = kept * dots.reduce(0, +)
                        gpError[j] = kept * gamma(D) * dots.reduce(0) { $0 + abs($1) }
                        sum += p * gp[j]
                        sumAbs += p * abs(gp[j])
                    }
                    var sumError = gamma(T) * sumAbs
                    for j in 0..<T { sumError += Double(probs.p[pair * T * T + i * T + j]) * (gpError[j] + ep * abs(gp[j])) }
                    for j in 0..<T {
                        let p = Double(probs.p[pair * T * T + i * T + j])
                        ds[i * T + j] = p * (gp[j] - sum)
                        let fp32 = ep * abs(ds[i * T + j]) + p * (gpError[j] + sumError) + 2 * u * abs(ds[i * T + j])
                        dsError[i * T + j] = fp32 * (1 + half) + half * abs(ds[i * T + j])  // then rounded to bf16
                    }
                }
                for i in 0..<T {
                    for d in 0..<D {
                        var bound = 0.0
                        for j in 0..<T { bound += (ep + half * (1 + ep)) * pd[i * T + j] * abs(x(b, j, 2, h, d)) }
                        let terms = (0..<T).reduce(0.0) { $0 + pd[i * T + $1] * abs(x(b, $1, 2, h, d)) }
                        outBound.p[(b * T + i) * C + h * D + d] = Float(bound + 2 * gamma(T) * terms * (1 + half) + 1e-30)
                        // dq_i = scale Σ_j dS_ij k_j; dk_i = scale Σ_t dS_ti q_t; dv_i = Σ_t pd_ti g_t.
                        var dq = 0.0, dk = 0.0, dv = 0.0
                        for j in 0..<T {
                            dq += dsError[i * T + j] * abs(x(b, j, 1, h, d)) + 2 * gamma(T) * abs(ds[i * T + j] * x(b, j, 1, h, d))
                            dk += dsError[j * T + i] * abs(x(b, j, 0, h, d)) + 2 * gamma(T) * abs(ds[j * T + i] * x(b, j, 0, h, d))
                            dv += (ep + half * (1 + ep)) * pd[j * T + i] * abs(g(b, j, h, d))
                                + 2 * gamma(T) * pd[j * T + i] * abs(g(b, j, h, d)) * (1 + half)
                        }
                        let base = (b * T + i) * 3 * C + h * D + d
                        gradBound.p[base] = Float(scale * dq * (1 + 4 * u) + 1e-30)
                        gradBound.p[base + C] = Float(scale * dk * (1 + 4 * u) + 1e-30)
                        gradBound.p[base + 2 * C] = Float(dv * (1 + 4 * u) + 1e-30)
                    }
                }
            }
        }
        try assertWithin(out, naive, outBound, "\(label): context")
        try assertWithin(grad, naiveGrad, gradBound, "\(label): dqkv")
    }

    /// |actual − expected| ≤ bound elementwise (and how close the worst element came, for the failure message); a NaN
    /// (an element the kernel never wrote, the buffers start as NaN) fails.
    private func assertWithin(_ actual: TestBuffer, _ expected: TestBuffer, _ bound: TestBuffer, _ label: String) throws {
        var worst = 0.0, worstIndex = 0
        for i in 0..<actual.count {
            let ratio = Double(abs(actual.p[i] - expected.p[i])) / Double(bound.p[i])
            guard !ratio.isNaN else {
                XCTFail("\(label): element \(i) is \(actual.p[i]) against \(expected.p[i])")
                return
            }
            if ratio > worst { worst = ratio; worstIndex = i }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(label): element \(worstIndex) is \(actual.p[worstIndex]) against \(expected.p[worstIndex]), bound \(bound.p[worstIndex])")
    }
}
