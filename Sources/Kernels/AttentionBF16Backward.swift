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
    let (T, C, D, scale) = (plan.T, plan.C, plan.D, plan.scale)
    // Per chunk: dWeights [T, L] (gradient of the dropped probabilities, then of the scores), with dropout the
    // dropped probabilities [T, L], the bf16 probabilities and score gradients [T, L] each, the head's q, k, v
    // and output gradient as dense bf16 [T, D] matrices, and one fp32 [T, D] product. Every product runs on
    // dense matrices, which oneDNN gives AMX tiles (see `attentionForwardBF16`).
    let floatsPerChunk = (dropout == nil ? 1 : 2) * T * T
    let scratchPerChunk = floatsPerChunk + T * T + 2 * T * D + T * D
    let scratch = plan.scratch(perChunk: scratchPerChunk)
    defer { scratch.deallocate() }
    let qkvLow = UnsafePointer(qkvScratch), doutLow = UnsafePointer(doutScratch)
    parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
        let dWeights = scratch + chunk * scratchPerChunk
        let dropped = dWeights + T * T
        let lowProbs = UnsafeMutableRawPointer(dWeights + floatsPerChunk).assumingMemoryBound(to: BF16.self)
        let lowScores = lowProbs + T * T
        let q = lowScores + T * T
        let k = q + T * D, v = k + T * D, g = v + T * D
        let product = dWeights + floatsPerChunk + T * T + 2 * T * D
        let threads = plan.chunks > 1 ? 1 : Parallelism.workers
        for pair in pairRange {
            let (_, L, qOffset, outOffset) = plan.head(pair)
            gatherHead(q: q, k: k, v: v, from: qkvLow, offset: qOffset, rows: T, keys: L, channels: C, headSize: D)
            for t in 0..<T { copyBF16(g + t * D, doutLow + outOffset + t * C, count: D) }
            let dq = dqkv + qOffset
            let dk = dq + C, dv = dq + 2 * C
            let p = probs + pair * T * T
            gemmBF16(transA: false, transB: true, m: T, n: L, k: D, a: g, lda: D, b: v, ldb: D,
                     accumulate: false, c: dWeights, ldc: L, threads: threads)
            for i in 0..<T {
                let row = dWeights + i * L
                if let dropout {
                    dropoutRowPair(dropped: dropped + i * L, probs: p + i * T, gradient: row, count: L,
                                   dropout: dropout, startIndex: pair * T * T + i * T)
                }
                convertRowToBF16(out: lowProbs + i * L, inp: dropout == nil ? p + i * T : UnsafePointer(dropped + i * L), count: L)
                softmaxBackwardRow(dinp: row, dout: row, probs: p + i * T, cols: L, accumulate: false)
                if let dScores { addRow(row, dScores + pair * T * T + i * T, count: L) }
                convertRowToBF16(out: lowScores + i * L, inp: row, count: L)
            }
            // Each product into the dense scratch, then added into the head's columns of dqkv.
            func addProduct(into target: FloatBuffer, rows: Int) {
                for t in 0..<rows { addRow(target + t * 3 * C, product + t * D, count: D) }
            }
            gemmBF16(transA: true, transB: false, m: L, n: D, k: T, a: lowProbs, lda: L, b: g, ldb: D,
                     accumulate: false, c: product, ldc: D, threads: threads)
            addProduct(into: dv, rows: L)
            gemmBF16(transA: false, transB: false, m: T, n: D, k: L, alpha: scale, a: lowScores, lda: L, b: k, ldb: D,
                     accumulate: false, c: product, ldc: D, threads: threads)
            addProduct(into: dq, rows: T)
            gemmBF16(transA: true, transB: false, m: L, n: D, k: T, alpha: scale, a: lowScores, lda: L, b: q, ldb: D,
                     accumulate: false, c: product, ldc: D, threads: threads)
            addProduct(into: dk, rows: L)
        }
    }
}
