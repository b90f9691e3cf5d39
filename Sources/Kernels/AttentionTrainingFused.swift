import CKernels
import Foundation

/// The fused bf16 training attention (`mrc_attention_train_forward_*`, `mrc_attention_train_backward_*`): per
/// (sequence, head) one kernel forward and one backward, with no [batch, heads, T, T] tensor between them. The
/// forward saves each query row's score maximum and 1/sum, and with dropout the mask's kept lanes as bits
/// (`savedFloats`); the backward recomputes the scores and probabilities from them (flash-attention style).
/// The products are bf16 with fp32 sums on AMX tiles or in vdpbf16ps, the softmax and its backward fp32.
/// `attentionForwardBF16(out:probs:…)` and `attentionBackwardBF16`, which save and read the whole softmax, are its
/// reference twin (same arithmetic but for the e^x: the C kernels' degree-4 2^x, relative error ≤ 2.7e-6).
public enum FusedTrainingAttention {
    /// Turns the fused training attention off (`MRC_TRAINING_ATTENTION=0`): for before/after benchmarks.
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["MRC_TRAINING_ATTENTION"] != "0"

    /// Whether a training attention with heads of `headSize` runs fused here: wherever the fused inference attention
    /// runs (`AttentionAMX.runs`, `.runsOnAVX512`: AMX or AVX-512 BF16, the cap allowing, oneDNN the backend, head
    /// size 32 or 64), unless turned off.
    public static func runs(headSize: Int) -> Bool {
        enabled && (AttentionAMX.runs(headSize: headSize) || AttentionAMX.runsOnAVX512(headSize: headSize))
    }

    /// Floats the forward saves for the backward: [batch, heads, seqLen, 2] statistics, then with dropout the kept
    /// lanes, one bit per probability (`maskStride` uint16 per query row).
    public static func savedFloats(batch: Int, heads: Int, seqLen: Int, dropout: Bool) -> Int {
        let pairs = batch * heads
        return 2 * pairs * seqLen + (dropout ? (pairs * seqLen * maskStride(seqLen) + 1) / 2 : 0)
    }

    /// uint16 words of kept lanes per query row: 16 keys each, the keys padded to a multiple of 32.
    static func maskStride(_ seqLen: Int) -> Int { (seqLen + 31) / 32 * 2 }
}

/// The head description and dropout keys the C kernels take, for pair `pair` of `plan`.
private func describeHead(_ plan: AttentionPlan, pair: Int, qkv16: ConstBF16Buffer, dropout: UnsafePointer<mrc_dropout_keys>?,
                          saved: FloatBuffer) -> (head: mrc_attention_train_head, out: Int, stats: Int) {
    let (b, L, qOffset, outOffset) = plan.head(pair)
    let T = plan.T
    let q = qkv16 + qOffset
    let bias = plan.mask.hasInteriorPadding[b] ? UnsafePointer(plan.mask.bias + b * T) : nil
    let stride = FusedTrainingAttention.maskStride(T)
    let masks = UnsafeMutableRawPointer(saved + 2 * plan.pairs * T).assumingMemoryBound(to: UInt16.self)
    let head = mrc_attention_train_head(q: q, k: q + plan.C, v: q + 2 * plan.C, stride: Int64(3 * plan.C), rows: Int64(T),
                                        keys: Int64(L), headSize: Int64(plan.D), scale: plan.scale, bias: bias,
                                        dropout: dropout, maskStart: UInt32(truncatingIfNeeded: pair * T * T),
                                        keptMasks: dropout == nil ? nil : masks + pair * T * stride, maskStride: Int64(stride),
                                        next: nil, nextCount: 0)
    return (head, outOffset, pair * T * 2)
}

/// Runs `body` with the C form of `dropout` (nil without).
private func withDropoutKeys<R>(_ dropout: Dropout?, _ body: (UnsafePointer<mrc_dropout_keys>?) -> R) -> R {
    guard let dropout else { return body(nil) }
    let (k1, k2) = dropout.keys
    var keys = mrc_dropout_keys(k1: k1, k2: k2, threshold: dropout.dropThreshold, keepScale: dropout.keepScale)
    return withUnsafePointer(to: &keys) { body($0) }
}

/// Per-worker scratch of the fused training kernels for `plan`, and whether they run on AMX tiles.
private func fusedScratch(_ plan: AttentionPlan) -> (UnsafeMutableRawPointer, Int, amx: Bool) {
    let bytes = Int(mrc_attention_train_scratch_bytes(Int64(plan.T), Int64(plan.T), Int64(plan.D)))
    return (.allocate(byteCount: max(1, plan.chunks * bytes), alignment: 64), bytes, AttentionAMX.runs(headSize: plan.D))
}

/// Training forward of the fused attention: the context [batch, seqLen, channels] in fp32 into `out` and what the
/// backward needs into `saved` (`FusedTrainingAttention.savedFloats`), from the bf16 q|k|v [batch, seqLen, 3·channels]
/// (the q|k|v matmul's output). Same semantics as `attentionForwardBF16(out:probs:…)` on the fp32 q|k|v that rounds
/// to it; needs `FusedTrainingAttention.runs(headSize: channels / heads)`.
public func attentionForwardBF16Fused(out: FloatBuffer, saved: FloatBuffer, qkv16: ConstBF16Buffer, keyMask: UnsafePointer<Int32>,
                                      batch: Int, seqLen: Int, channels: Int, heads: Int, dropout: Dropout?) {
    let plan = AttentionPlan(keyMask: keyMask, batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
    defer { plan.deallocate() }
    precondition(FusedTrainingAttention.runs(headSize: plan.D), "the fused training attention does not run here")
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "attentionForwardBF16Fused", flops: 4 * Double(batch * seqLen * seqLen * channels)) }
    let (scratch, bytes, amx) = fusedScratch(plan)
    defer { scratch.deallocate() }
    let prefetch = AttentionPrefetch(plan, qkv16: qkv16, .trainingForward(out))
    defer { prefetch.deallocate() }
    let forward = amx ? mrc_attention_train_forward_amx : mrc_attention_train_forward_avx512
    withDropoutKeys(dropout) { keys in
        parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
            for pair in pairRange {
                var (head, outOffset, statsOffset) = describeHead(plan, pair: pair, qkv16: qkv16, dropout: keys, saved: saved)
                prefetch.withNext(chunk: chunk, after: pair, in: pairRange) { next, nextCount in
                    (head.next, head.nextCount) = (next, nextCount)
                    forward(&head, out + outOffset, Int64(channels), saved + statsOffset, scratch + chunk * bytes)
                }
            }
        }
    }
}

/// Training backward of the fused attention: writes `dqkv` [batch, seqLen, 3·channels] (every element: it is not
/// zeroed first nor accumulated into, unlike `attentionBackwardBF16`'s) from the context
/// gradient `dout` [batch, seqLen, channels] (rounded to bf16 into `doutScratch` first), the forward's bf16 q|k|v
/// (its `qkvScratch`) and `saved`, and the same `dropout`. Same semantics as `attentionBackwardBF16` without
/// `dScores`.
public func attentionBackwardBF16Fused(dqkv: FloatBuffer, dout: ConstFloatBuffer, qkv16: ConstBF16Buffer, saved: FloatBuffer,
                                       keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                                       dropout: Dropout?, doutScratch: BF16Buffer) {
    convertToBF16(out: doutScratch, inp: dout, count: batch * seqLen * channels)
    let plan = AttentionPlan(keyMask: keyMask, batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
    defer { plan.deallocate() }
    precondition(FusedTrainingAttention.runs(headSize: plan.D), "the fused training attention does not run here")
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "attentionBackwardBF16Fused", flops: 8 * Double(batch * seqLen * seqLen * channels))
    }
    let (scratch, bytes, amx) = fusedScratch(plan)
    defer { scratch.deallocate() }
    let dout16 = UnsafePointer(doutScratch)
    let prefetch = AttentionPrefetch(plan, qkv16: qkv16, .trainingBackward(dout: dout16, dqkv: dqkv))
    defer { prefetch.deallocate() }
    let backward = amx ? mrc_attention_train_backward_amx : mrc_attention_train_backward_avx512
    withDropoutKeys(dropout) { keys in
        parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
            for pair in pairRange {
                var (head, outOffset, statsOffset) = describeHead(plan, pair: pair, qkv16: qkv16, dropout: keys, saved: saved)
                let dq = dqkv + (pair / heads) * seqLen * 3 * channels + (pair % heads) * plan.D
                let g = dout16 + outOffset
                prefetch.withNext(chunk: chunk, after: pair, in: pairRange) { next, nextCount in
                    (head.next, head.nextCount) = (next, nextCount)
                    backward(&head, g, Int64(channels), saved + statsOffset, dq, dq + channels, dq + 2 * channels,
                             Int64(3 * channels), scratch + chunk * bytes)
                }
            }
        }
    }
}
