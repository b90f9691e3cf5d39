import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The fused inference attention (`attentionForwardBF16(out16:…)`): on AMX tiles where the CPU has them
/// (`mrc_attention_head_amx`), on AVX-512 BF16 (`mrc_attention_head_avx512`, also with AMX turned off) and as their
/// twin (gathered heads, two matmuls, the softmax rows) on the reference backend, each against the plain fp32 attention run on the same bf16 q, k, v. The products are exact in fp32.
/// What may differ:
/// - the rounding of the probabilities to bf16 (8 significant bits: ≤ 2⁻⁸ relative each, so the context moves
///   by ≤ 2⁻⁸ · max|v|; the AMX kernel rounds e^(s − max) and divides by the fp32 sum afterwards, the twin
///   rounds the quotient: the same bound);
/// - the context's own rounding to bf16 (≤ 2⁻⁸ of the rounded value);
/// - in fp32, as a fraction of max|v|: e^x's error in numerator and sum (`mrc_softmax_row_bf16`: 2.7e-6 +
///   1.24e-7·|y|, whose p-weighted mean is ≤ 2.7e-6 + 1.24e-7·log₂ L), each score's summation order
///   (γ_D · Σ|q_d k_d| · scale on each side, which moves p by twice that), the fp32 sums of L exponentials and of
///   P·v (γ_L each side) and the final multiplication.
final class AttentionAMXTests: XCTestCase {
    private var cpuHasAVX512BF16: Bool {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return flags.contains(" avx512_bf16") && flags.contains(" avx512bw") && flags.contains(" avx512vl")
    }

    private var cpuHasAMX: Bool {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return flags.contains(" amx_bf16") && flags.contains(" amx_tile") && flags.contains(" avx512_bf16")
    }

    func testRunsExactlyWhereTheCPUHasAMXAndNoCapForbidsIt() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        LowPrecision.backend = .onednn
        let cap = ProcessInfo.processInfo.environment["MRC_ONEDNN_MAX_ISA"]
        let capped = cap.map { !["AVX512_CORE_AMX", "ALL"].contains($0) } ?? false
        let expected = cpuHasAMX && !capped && OneDNN.isLinked && AttentionAMX.enabled
        XCTAssertEqual(AttentionAMX.runs(headSize: 32), expected, "AMX: \(cpuHasAMX), cap \(cap ?? "none"), oneDNN \(OneDNN.isa)")
        XCTAssertEqual(AttentionAMX.runs(headSize: 64), expected)
        XCTAssertFalse(AttentionAMX.runs(headSize: 48), "head sizes other than 32 and 64 keep the twin")
        // AVX-512 BF16 where AMX does not run and the CPU and the cap allow it (as the softmax rows).
        let avx512Allowed = cpuHasAVX512BF16 && (cap.map { ["AVX512_CORE_BF16", "AVX512_CORE_AMX", "ALL"].contains($0) } ?? true)
        XCTAssertEqual(AttentionAMX.runsOnAVX512(headSize: 32), avx512Allowed && !expected && AttentionAMX.enabled)
        XCTAssertFalse(AttentionAMX.runsOnAVX512(headSize: 48))
        AttentionAMX.tiles = false
        XCTAssertFalse(AttentionAMX.runs(headSize: 64))
        XCTAssertEqual(AttentionAMX.runsOnAVX512(headSize: 64), avx512Allowed && AttentionAMX.enabled, "tiles off: AVX-512 BF16")
        AttentionAMX.tiles = true
        LowPrecision.backend = .reference
        XCTAssertFalse(AttentionAMX.runs(headSize: 32), "the reference backend runs the twin")
        XCTAssertFalse(AttentionAMX.runsOnAVX512(headSize: 32), "the reference backend runs the twin")
    }

    /// Head sizes 32 and 64 (AMX) and 48 (the twin on every backend); 37 and 50 positions (a partial block of 16
    /// queries); a full sequence, suffix padding (keys no multiple of 32) and interior padding (the additive mask).
    func testFusedAttentionMatchesThePlainOneOnRoundedInputs() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        var random = TestRandom(seed: 77)
        for (C, heads) in [(64, 2), (128, 2), (96, 2)] {
            for T in [37, 50, 90] {
                let input = RoundedAttentionCase(T: T, C: C, heads: heads, &random)
                let (batch, qkv, mask, naive, largestV) = (input.batch, input.qkv, input.mask, input.naive, input.largestV)
                let qkv16 = BF16Buffer.allocate(capacity: qkv.count)
                defer { qkv16.deallocate() }
                for i in 0..<qkv.count { qkv16[i] = bfloat16(qkv.p[i]) }
                let D = C / heads, scale = 1 / Double(D).squareRoot()
                var largestAbsScore = 0.0  // max over heads, queries, keys of Σ_d |q_d k_d| · scale
                for b in 0..<batch { for h in 0..<heads { for i in 0..<T { for j in 0..<T {
                    var sum = 0.0
                    for d in 0..<D {
                        sum += abs(Double(qkv.p[(b * T + i) * 3 * C + h * D + d]) * Double(qkv.p[(b * T + j) * 3 * C + C + h * D + d]))
                    }
                    largestAbsScore = max(largestAbsScore, sum * scale)
                } } } }
                let fp32 = 2 * (2.7e-6 + 1.24e-7 * log2(Double(T)) + 4 * 0x1p-24) + 4 * gamma(D + 1) * largestAbsScore
                    + 2 * gamma(T) + gamma(T / 16 + 4) + 2 * 0x1p-24
                // oneDNN with AMX allowed, oneDNN with AMX off (the AVX-512 BF16 kernel where the CPU has it), the
                // reference backend (the twin).
                for (backend, tiles) in [(LowPrecisionBackend.onednn, true), (.onednn, false), (.reference, true)] {
                    LowPrecision.backend = backend
                    AttentionAMX.tiles = tiles
                    defer { AttentionAMX.tiles = true }
                    let out16 = BF16Buffer.allocate(capacity: batch * T * C)
                    defer { out16.deallocate() }
                    out16.initialize(repeating: 0x7FC0, count: batch * T * C)  // NaN: every element must be written
                    attentionForwardBF16(out16: out16, qkv16: qkv16, keyMask: mask, batch: batch, seqLen: T, channels: C, heads: heads)
                    let out = TestBuffer(count: batch * T * C)
                    for i in 0..<out.count { out.p[i] = float(bfloat16: out16[i]) }
                    let path = AttentionAMX.runs(headSize: C / heads) ? "AMX"
                        : AttentionAMX.runsOnAVX512(headSize: C / heads) ? "AVX-512 BF16" : "twin"
                    assertClose(out, naive, absolute: (0x1p-8 + Float(fp32)) * largestV * (1 + 0x1p-8), relative: 0x1p-8,
                                "\(path) (\(backend)) D=\(C / heads) T=\(T)")
                }
            }
        }
    }
}
