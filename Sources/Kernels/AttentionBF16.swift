import CKernels
import Foundation
/// Self-attention with bf16 products (the scheme of autocast): q, k, v rounded to bf16 once into
/// `qkvScratch` [batch, seqLen, 3·channels], then per (batch, head) on the workers: `scores = q kᵀ / √d`
/// (bf16 inputs, fp32 accumulation), the masked softmax in fp32, the (dropped-out) probabilities
/// rounded to bf16, `out = P v` in fp32. Same semantics and arguments as `attentionForward`.
///
/// Inference (`probs` nil, no dropout) keeps a head's scores and probabilities in a per-worker block
/// (≈ T² · 6 bytes, in L2 at T = 384) and fuses the normalisation with the rounding: no [batch, heads,
/// T, T] tensor is written. Training saves the fp32 softmax in `probs` for the backward.
public func attentionForwardBF16(out: FloatBuffer, probs: FloatBuffer? = nil, qkv: ConstFloatBuffer, qkvScratch: BF16Buffer,
                                 keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                                 dropout: Dropout? = nil) {
    convertToBF16(out: qkvScratch, inp: qkv, count: batch * seqLen * 3 * channels)
    attentionBF16(out: out, out16: nil, probs: probs, qkv16: qkvScratch, keyMask: keyMask, batch: batch, seqLen: seqLen,
                  channels: channels, heads: heads, dropout: dropout)
}

/// The inference attention of the fused bf16 layer: q|k|v already bf16 (the QKV matmul's output,
/// [batch, seqLen, 3·channels]), the context written as bf16 [batch, seqLen, channels] (the next matmul's
/// input). Each head's products are those of `attentionForwardBF16`; its softmax rows run the AVX-512 BF16
/// kernel (`mrc_softmax_row_bf16`: a degree-4 minimax 2^x, the hardware's rounding) where the CPU has it
/// (`softmaxRowsUseAVX512BF16`), and the fp32 context is not written (it is rounded to
/// bf16 where it is stored). On AMX the whole head runs as one kernel (`AttentionAMX`), this path its twin.
/// `attentionForwardBF16` itself keeps the portable softmax, the training forward's arithmetic: an unfused
/// inference forward (a teacher's capture) equals a training one.
public func attentionForwardBF16(out16: BF16Buffer, qkv16: ConstBF16Buffer, keyMask: UnsafePointer<Int32>, batch: Int,
                                 seqLen: Int, channels: Int, heads: Int) {
    attentionBF16(out: nil, out16: out16, probs: nil, qkv16: qkv16, keyMask: keyMask, batch: batch, seqLen: seqLen,
                  channels: channels, heads: heads, dropout: nil)
}

/// The body of both: the context goes to `out` (fp32) or `out16` (bf16).
private func attentionBF16(out: FloatBuffer?, out16: BF16Buffer?, probs: FloatBuffer?, qkv16: ConstBF16Buffer,
                           keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                           dropout: Dropout?) {
    let plan = AttentionPlan(keyMask: keyMask, batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
    defer { plan.deallocate() }
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "attentionForwardBF16", flops: 4 * Double(batch * seqLen * seqLen * channels)) }
    if let out16, AttentionAMX.runs(headSize: plan.D) || AttentionAMX.runsOnAVX512(headSize: plan.D) {
        attentionBF16Fused(out16: out16, qkv16: qkv16, plan: plan)
        return
    }
    let (T, C, D, scale, layout) = (plan.T, plan.C, plan.D, plan.scale, plan.mask)
    // Per chunk: fp32 scores [T, L], the bf16 probabilities [T, L], the head's q, k, v as dense bf16 [T, D]
    // matrices and its fp32 output [T, D]. Every product runs on dense matrices: oneDNN 2.6 gives AMX tiles
    // (brgemm) only to those; strided ones (a head's columns of qkv, a padded score row) fall to `gemm:jit`,
    // 5× slower on an AMX Xeon (the QKᵀ at 23 GFLOP/s a thread).
    let scratchPerChunk = T * T + (T * T + 1) / 2 + (3 * T * D + 1) / 2 + T * D
    let scratch = plan.scratch(perChunk: scratchPerChunk)
    defer { scratch.deallocate() }
    // The fused layer's rows take the AVX-512 BF16 kernel where it runs; the others keep the portable row,
    // the training forward's arithmetic.
    let rowKernel = out16 != nil && softmaxRowsUseAVX512BF16
    parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
        let scores = scratch + chunk * scratchPerChunk
        let probabilities = UnsafeMutableRawPointer(scores + T * T).assumingMemoryBound(to: BF16.self)
        let q = UnsafeMutableRawPointer(scores + T * T + (T * T + 1) / 2).assumingMemoryBound(to: BF16.self)
        let k = q + T * D, v = q + 2 * T * D
        let headOut = scores + T * T + (T * T + 1) / 2 + (3 * T * D + 1) / 2
        let threads = plan.chunks > 1 ? 1 : Parallelism.workers
        for pair in pairRange {
            let (b, L, qOffset, outOffset) = plan.head(pair)
            let bias = layout.hasInteriorPadding[b] ? layout.bias + b * T : nil
            gatherHead(q: q, k: k, v: v, from: qkv16, offset: qOffset, rows: T, keys: L, channels: C, headSize: D)
            gemmBF16(transA: false, transB: true, m: T, n: L, k: D, alpha: scale, a: q, lda: D, b: k, ldb: D,
                     accumulate: false, c: scores, ldc: L, threads: threads)
            for i in 0..<T {
                let row = scores + i * L
                guard probs != nil || dropout != nil else {
                    if rowKernel {
                        mrc_softmax_row_bf16(row, bias, Int64(L), probabilities + i * L)
                    } else {
                        portableSoftmaxRowToBF16(out: probabilities + i * L, scores: row, bias: bias, cols: L)
                    }
                    continue
                }
                // Training: the fp32 softmax is saved (zero past L), dropout applies to a copy in the scores row.
                let p = probs.map { $0 + pair * T * T + i * T } ?? row
                if let bias { softmaxRow(out: p, inp: row, bias: bias, cols: L) } else { softmaxRow(out: p, inp: row, cols: L) }
                if L < T, probs != nil { (p + L).update(repeating: 0, count: T - L) }
                if let dropout {
                    dropoutRange(out: row, inp: p, accumulateInto: nil, range: 0..<L, dropout: dropout,
                                 startIndex: pair * T * T + i * T)
                }
                convertRowToBF16(out: probabilities + i * L, inp: dropout == nil ? p : row, count: L)
            }
            gemmBF16(transA: false, transB: false, m: T, n: D, k: L, a: probabilities, lda: L, b: v, ldb: D,
                     accumulate: false, c: headOut, ldc: D, threads: threads)
            if let out {
                for t in 0..<T { (out + outOffset + t * C).update(from: headOut + t * D, count: D) }
            } else if let out16 {
                for t in 0..<T { convertRowToBF16(out: out16 + outOffset + t * C, inp: headOut + t * D, count: D) }
            }
        }
    }
}

/// The CPU runs AVX-512 BF16, and `MRC_ONEDNN_MAX_ISA` does not cap the process below it (the cap that
/// tests the paths without those instructions holds for our C kernels as for oneDNN's).
let avx512BF16Allowed = mrc_has_avx512_bf16() != 0 && ["avx512_core_bf16", "avx512_core_amx"].contains(OneDNN.isa)

/// Whether the fused attention's softmax rows run the AVX-512 BF16 kernel (`mrc_softmax_row_bf16`): where
/// it is allowed (above) and the low-precision backend is oneDNN; the reference backend runs the portable twin.
var softmaxRowsUseAVX512BF16: Bool { avx512BF16Allowed && LowPrecision.backend == .onednn }

/// Copies one head's q (`rows` rows), k and v (`keys` rows) out of a [rows, 3·channels] bf16 q|k|v, from the
/// head's column `offset`, into dense [·, headSize] matrices (the forward's and the backward's products run on
/// those: see `attentionForwardBF16`).
@inline(__always)
func gatherHead(q: BF16Buffer, k: BF16Buffer, v: BF16Buffer, from qkv: ConstBF16Buffer, offset: Int, rows: Int, keys: Int,
                channels: Int, headSize: Int) {
    let stride = 3 * channels
    for t in 0..<rows { copyBF16(q + t * headSize, qkv + offset + t * stride, count: headSize) }
    for t in 0..<keys {
        copyBF16(k + t * headSize, qkv + offset + channels + t * stride, count: headSize)
        copyBF16(v + t * headSize, qkv + offset + 2 * channels + t * stride, count: headSize)
    }
}

/// Copies a head's row of bf16 values (a few dozen: `memmove` calls cost more than the copy), 16 at a time.
@inline(__always)
func copyBF16(_ destination: BF16Buffer, _ source: ConstBF16Buffer, count: Int) {
    var i = 0
    while i + 16 <= count {
        UnsafeMutableRawPointer(destination + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<UInt16>.self),
                                                            as: SIMD16<UInt16>.self)
        i += 16
    }
    while i < count { destination[i] = source[i]; i += 1 }
}

/// One softmax row of `scores (+ bias)` written as bf16 into `out`; the scores row is scratch (it holds
/// the exponentials afterwards). The normalisation is fused with the rounding. The portable twin of the
/// AVX-512 BF16 row `mrc_softmax_row_bf16` (and its test reference).
@inline(__always)
func portableSoftmaxRowToBF16(out: BF16Buffer, scores x: FloatBuffer, bias: ConstFloatBuffer?, cols: Int) {
    if let bias { addInPlace(x, bias, count: cols) }
    let inv = 1 / softmaxExponentials(out: x, inp: x, cols: cols)
    for j in 0..<cols { out[j] = bfloat16(x[j] * inv) }
}
