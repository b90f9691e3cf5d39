/// Backward of `attentionForwardBF16` in training (saved fp32 `probs`, the same `dropout`); accumulates
/// into `dqkv` [batch, seqLen, 3·channels]. q, k, v and `dout` are rounded to bf16 once (into
/// `qkvScratch` and `doutScratch` [batch, seqLen, channels]); per (batch, head) the products
/// `dP = dout · vᵀ`, `dv += Pᵀ · dout`, `dq += scale · dS · k`, `dk += scale · dSᵀ · q` take bf16
/// inputs with fp32 accumulation, the dropout and softmax backward run in fp32 on the saved softmax.
/// `dScores` as in `attentionBackward` (added in fp32 before the score gradient is rounded to bf16).
public func attentionBackwardBF16(dqkv: FloatBuffer, dout: ConstFloatBuffer, qkv: ConstFloatBuffer, probs: ConstFloatBuffer,
                                  keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                                  dropout: Dropout?, qkvScratch: BF16Buffer, doutScratch: BF16Buffer,
                                  dScores: ConstFloatBuffer? = nil) {
    let plan = AttentionPlan(keyMask: keyMask, batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
    defer { plan.deallocate() }
    convertToBF16(out: qkvScratch, inp: qkv, count: batch * seqLen * 3 * channels)
    convertToBF16(out: doutScratch, inp: dout, count: batch * seqLen * channels)
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "attentionBackwardBF16" + (dropout == nil ? "" : " (dropout)"),
                           flops: 8 * Double(batch * seqLen * seqLen * channels))
    }
    let (T, C, D, S, scale) = (plan.T, plan.C, plan.D, plan.S, plan.scale)
    // Per chunk: dWeights [T, S] (gradient of the dropped probabilities, then of the scores), with dropout
    // the dropped probabilities [T, S], and the bf16 probabilities and score gradients [T, S] each.
    let floatsPerChunk = (dropout == nil ? 1 : 2) * T * S
    let scratchPerChunk = floatsPerChunk + T * S
    let scratch = plan.scratch(perChunk: scratchPerChunk)
    defer { scratch.deallocate() }
    let qkvLow = UnsafePointer(qkvScratch), doutLow = UnsafePointer(doutScratch)
    parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
        let dWeights = scratch + chunk * scratchPerChunk
        let dropped = dWeights + T * S
        let lowProbs = UnsafeMutableRawPointer(dWeights + floatsPerChunk).assumingMemoryBound(to: BF16.self)
        let lowScores = lowProbs + T * S
        let threads = plan.chunks > 1 ? 1 : Parallelism.workers
        for pair in pairRange {
            let (_, L, qOffset, outOffset) = plan.head(pair)
            let q = qkvLow + qOffset
            let k = q + C, v = q + 2 * C
            let dq = dqkv + qOffset
            let dk = dq + C, dv = dq + 2 * C
            let g = doutLow + outOffset
            let p = probs + pair * T * T
            gemmBF16(transA: false, transB: true, m: T, n: L, k: D, a: g, lda: C, b: v, ldb: 3 * C,
                     accumulate: false, c: dWeights, ldc: S, threads: threads)
            for i in 0..<T {
                let row = dWeights + i * S
                if let dropout {
                    dropoutRowPair(dropped: dropped + i * S, probs: p + i * T, gradient: row, count: L,
                                   dropout: dropout, startIndex: pair * T * T + i * T)
                }
                convertRowToBF16(out: lowProbs + i * S, inp: dropout == nil ? p + i * T : UnsafePointer(dropped + i * S), count: L)
                softmaxBackwardRow(dinp: row, dout: row, probs: p + i * T, cols: L, accumulate: false)
                if let dScores { addRow(row, dScores + pair * T * T + i * T, count: L) }
                convertRowToBF16(out: lowScores + i * S, inp: row, count: L)
            }
            gemmBF16(transA: true, transB: false, m: L, n: D, k: T, a: lowProbs, lda: S, b: g, ldb: C,
                     accumulate: true, c: dv, ldc: 3 * C, threads: threads)
            gemmBF16(transA: false, transB: false, m: T, n: D, k: L, alpha: scale, a: lowScores, lda: S, b: k, ldb: 3 * C,
                     accumulate: true, c: dq, ldc: 3 * C, threads: threads)
            gemmBF16(transA: true, transB: false, m: L, n: D, k: T, alpha: scale, a: lowScores, lda: S, b: q, ldb: 3 * C,
                     accumulate: true, c: dk, ldc: 3 * C, threads: threads)
        }
    }
}
