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
    let plan = AttentionPlan(keyMask: keyMask, batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
    defer { plan.deallocate() }
    convertToBF16(out: qkvScratch, inp: qkv, count: batch * seqLen * 3 * channels)
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "attentionForwardBF16", flops: 4 * Double(batch * seqLen * seqLen * channels)) }
    let (T, C, D, S, scale, layout) = (plan.T, plan.C, plan.D, plan.S, plan.scale, plan.mask)
    // Per chunk: fp32 scores [T, S], then the bf16 probabilities [T, S] (in floats: half as many).
    let scratchPerChunk = T * S + (T * S + 1) / 2
    let scratch = plan.scratch(perChunk: scratchPerChunk)
    defer { scratch.deallocate() }
    let source = UnsafePointer(qkvScratch)
    parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
        let scores = scratch + chunk * scratchPerChunk
        let probabilities = UnsafeMutableRawPointer(scores + T * S).assumingMemoryBound(to: BF16.self)
        let threads = plan.chunks > 1 ? 1 : Parallelism.workers
        for pair in pairRange {
            let (b, L, qOffset, outOffset) = plan.head(pair)
            let bias = layout.hasInteriorPadding[b] ? layout.bias + b * T : nil
            let q = source + qOffset
            let k = q + C, v = q + 2 * C
            gemmBF16(transA: false, transB: true, m: T, n: L, k: D, alpha: scale, a: q, lda: 3 * C, b: k, ldb: 3 * C,
                     accumulate: false, c: scores, ldc: S, threads: threads)
            for i in 0..<T {
                let row = scores + i * S
                guard probs != nil || dropout != nil else {
                    softmaxRowToBF16(out: probabilities + i * S, scores: row, bias: bias, cols: L)
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
                convertRowToBF16(out: probabilities + i * S, inp: dropout == nil ? p : row, count: L)
            }
            gemmBF16(transA: false, transB: false, m: T, n: D, k: L, a: probabilities, lda: S, b: v, ldb: 3 * C,
                     accumulate: false, c: out + outOffset, ldc: C, threads: threads)
        }
    }
}

/// One softmax row of `scores (+ bias)` written as bf16 into `out`; the scores row is scratch (it holds
/// the exponentials afterwards). The normalisation is fused with the rounding.
@inline(__always)
func softmaxRowToBF16(out: BF16Buffer, scores x: FloatBuffer, bias: ConstFloatBuffer?, cols: Int) {
    if let bias { addInPlace(x, bias, count: cols) }
    let inv = 1 / softmaxExponentials(out: x, inp: x, cols: cols)
    for j in 0..<cols { out[j] = bfloat16(x[j] * inv) }
}
