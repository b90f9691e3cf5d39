/// The additive score of a padding key (as Hugging Face BERT's extended attention mask).
public let attentionMaskValue: Float = -10_000

/// Multi-head self-attention over a fused qkv buffer (Hugging Face BertSelfAttention semantics):
/// per batch b and head h, `scores = q kᵀ / √d + mask`, `probs = softmax(scores)` (saved, before
/// dropout), `out = dropout(probs) v`. Runs the (b, h) pairs on `Parallelism.workers` workers with
/// single-threaded BLAS.
/// - Parameters:
///   - out: [batch, seqLen, channels], heads side by side (head h at columns h·d ..< (h+1)·d).
///   - probs: [batch, heads, seqLen, seqLen], the softmax saved for the backward.
///   - qkv: [batch, seqLen, 3·channels], per token q | k | v.
///   - keyMask: [batch, seqLen], 1 = real token, 0 = padding (gets `attentionMaskValue`).
///   - dropout: dropout on the probabilities (mask index = ((b·heads + h)·seqLen + i)·seqLen + j), nil = off.
public func attentionForward(out: FloatBuffer, probs: FloatBuffer, qkv: ConstFloatBuffer, keyMask: UnsafePointer<Int32>,
                             batch: Int, seqLen: Int, channels: Int, heads: Int, dropout: Dropout?) {
    precondition(channels % heads == 0, "attention: channels \(channels) not divisible by heads \(heads)")
    let T = seqLen, C = channels, D = channels / heads
    let scale = 1 / Float(D).squareRoot()
    let pairs = batch * heads
    let chunks = parallelChunkCount(count: pairs, minimumWork: 2)
    let scratchPerChunk = dropout == nil ? 0 : T * T
    let scratch = FloatBuffer.allocate(capacity: max(1, chunks * scratchPerChunk))
    defer { scratch.deallocate() }
    BLAS.singleThreaded {
        parallelChunks(count: pairs, minimumWork: 2) { chunk, pairRange in
            for pair in pairRange {
                let b = pair / heads, h = pair % heads
                let q = qkv + b * T * 3 * C + h * D
                let k = q + C, v = q + 2 * C
                let p = probs + pair * T * T
                gemm(transA: false, transB: true, m: T, n: T, k: D, alpha: scale, a: q, lda: 3 * C,
                     b: k, ldb: 3 * C, beta: 0, c: p, ldc: T)
                maskedSoftmaxRows(p, keyMask: keyMask + b * T, rows: T, cols: T)
                var weights = UnsafePointer(p)
                if let dropout {
                    let dropped = scratch + chunk * scratchPerChunk
                    dropoutRange(out: dropped, inp: p, accumulateInto: nil, range: 0..<(T * T),
                                 dropout: dropout, startIndex: pair * T * T)
                    weights = UnsafePointer(dropped)
                }
                gemm(transA: false, transB: false, m: T, n: D, k: T, alpha: 1, a: weights, lda: T,
                     b: v, ldb: 3 * C, beta: 0, c: out + b * T * C + h * D, ldc: C)
            }
        }
    }
}

/// Attention backward; accumulates into `dqkv` [batch, seqLen, 3·channels] (q | k | v per token).
/// Needs the forward's `probs` and the same `dropout` (its mask is recomputed).
/// - Parameters: dout [batch, seqLen, channels]; the rest as in `attentionForward`.
public func attentionBackward(dqkv: FloatBuffer, dout: ConstFloatBuffer, qkv: ConstFloatBuffer, probs: ConstFloatBuffer,
                              keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                              dropout: Dropout?) {
    precondition(channels % heads == 0, "attention: channels \(channels) not divisible by heads \(heads)")
    let T = seqLen, C = channels, D = channels / heads
    let scale = 1 / Float(D).squareRoot()
    let pairs = batch * heads
    let chunks = parallelChunkCount(count: pairs, minimumWork: 2)
    // Per chunk: dWeights [T, T] (gradient of the post-dropout probabilities, then of the scores)
    // and, with dropout, the dropped probabilities [T, T].
    let scratchPerChunk = (dropout == nil ? 1 : 2) * T * T
    let scratch = FloatBuffer.allocate(capacity: max(1, chunks * scratchPerChunk))
    defer { scratch.deallocate() }
    BLAS.singleThreaded {
        parallelChunks(count: pairs, minimumWork: 2) { chunk, pairRange in
            let dWeights = scratch + chunk * scratchPerChunk
            for pair in pairRange {
                let b = pair / heads, h = pair % heads
                let q = qkv + b * T * 3 * C + h * D
                let k = q + C, v = q + 2 * C
                let dq = dqkv + b * T * 3 * C + h * D
                let dk = dq + C, dv = dq + 2 * C
                let g = dout + b * T * C + h * D
                let p = probs + pair * T * T
                var weights = p
                if let dropout {
                    let dropped = dWeights + T * T
                    dropoutRange(out: dropped, inp: p, accumulateInto: nil, range: 0..<(T * T),
                                 dropout: dropout, startIndex: pair * T * T)
                    weights = UnsafePointer(dropped)
                }
                // dv += weightsᵀ · dout
                gemm(transA: true, transB: false, m: T, n: D, k: T, alpha: 1, a: weights, lda: T,
                     b: g, ldb: C, beta: 1, c: dv, ldc: 3 * C)
                // dWeights = dout · vᵀ, then back through dropout and softmax in place.
                gemm(transA: false, transB: true, m: T, n: T, k: D, alpha: 1, a: g, lda: C,
                     b: v, ldb: 3 * C, beta: 0, c: dWeights, ldc: T)
                if let dropout {
                    dropoutRange(out: dWeights, inp: dWeights, accumulateInto: nil, range: 0..<(T * T),
                                 dropout: dropout, startIndex: pair * T * T)
                }
                for i in 0..<T {
                    softmaxBackwardRow(dinp: dWeights + i * T, dout: dWeights + i * T, probs: p + i * T,
                                       cols: T, accumulate: false)
                }
                // dq += scale · dScores · k ; dk += scale · dScoresᵀ · q
                gemm(transA: false, transB: false, m: T, n: D, k: T, alpha: scale, a: dWeights, lda: T,
                     b: k, ldb: 3 * C, beta: 1, c: dq, ldc: 3 * C)
                gemm(transA: true, transB: false, m: T, n: D, k: T, alpha: scale, a: dWeights, lda: T,
                     b: q, ldb: 3 * C, beta: 1, c: dk, ldc: 3 * C)
            }
        }
    }
}

/// Adds the key padding mask to each score row and applies the softmax in place.
@inline(__always)
func maskedSoftmaxRows(_ scores: FloatBuffer, keyMask: UnsafePointer<Int32>, rows: Int, cols: Int) {
    for i in 0..<rows {
        let row = scores + i * cols
        for j in 0..<cols where keyMask[j] == 0 { row[j] += attentionMaskValue }
        softmaxRow(out: row, inp: row, cols: cols)
    }
}
