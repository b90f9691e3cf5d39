/// The additive score of a padding key (as Hugging Face BERT's extended attention mask).
public let attentionMaskValue: Float = -10_000

/// Multi-head self-attention over a fused qkv buffer (Hugging Face BertSelfAttention semantics):
/// per batch b and head h, `scores = q kᵀ / √d + mask`, `probs = softmax(scores)` (saved, before
/// dropout), `out = dropout(probs) v`. Runs the (b, h) pairs on `Parallelism.workers` workers with
/// single-threaded BLAS; P·V and dS·K run `attentionHeadProduct` (a direct kernel at head dim 32).
///
/// When a sequence's padding is a suffix (keys `L..<T` all masked), those keys get probability
/// exactly 0 in float (e^-1e4 underflows), so the matmuls skip them; the result is the same.
/// - Parameters:
///   - out: [batch, seqLen, channels], heads side by side (head h at columns h·d ..< (h+1)·d).
///   - probs: [batch, heads, seqLen, seqLen], the softmax saved for the backward; nil for inference,
///     which then skips writing it (56 MB per layer at batch 8 × 384, 12 heads: ~15% of this kernel).
///   - qkv: [batch, seqLen, 3·channels], per token q | k | v.
///   - keyMask: [batch, seqLen], 1 = real token, 0 = padding (gets `attentionMaskValue`).
///   - dropout: dropout on the probabilities (mask index = ((b·heads + h)·seqLen + i)·seqLen + j), nil = off.
public func attentionForward(out: FloatBuffer, probs: FloatBuffer?, qkv: ConstFloatBuffer, keyMask: UnsafePointer<Int32>,
                             batch: Int, seqLen: Int, channels: Int, heads: Int, dropout: Dropout?) {
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "attentionForward" + (dropout == nil ? "" : " (dropout)"),
                           flops: 4 * Double(batch * seqLen * seqLen * channels))
    }
    let plan = AttentionPlan(keyMask: keyMask, batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
    defer { plan.deallocate() }
    let (T, C, D, S, scale, layout) = (plan.T, plan.C, plan.D, plan.S, plan.scale, plan.mask)
    // Per chunk: the raw scores [T, S] and, with dropout, the dropped probabilities [T, T]. The
    // scores' row stride S ≠ T keeps OpenBLAS from clearing them with one large memset (its beta = 0
    // path), which glibc does with non-temporal stores that push the block out of cache. Last, the
    // scratch of `attentionHeadProduct`.
    let scratchPerChunk = T * S + (dropout == nil ? 0 : T * T) + attentionHeadScratch(seqLen: T)
    let scratch = plan.scratch(perChunk: scratchPerChunk)
    defer { scratch.deallocate() }
    BLAS.singleThreaded {
        parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
            let scores = scratch + chunk * scratchPerChunk
            let dropped = scores + T * S
            let productScratch = scores + scratchPerChunk - attentionHeadScratch(seqLen: T)
            for pair in pairRange {
                let (b, L, qOffset, outOffset) = plan.head(pair)
                let bias = layout.bias + b * T
                let hasInteriorPadding = layout.hasInteriorPadding[b]
                let q = qkv + qOffset
                let k = q + C, v = q + 2 * C
                // Without saved probabilities the softmax runs in place in the scores (stride S).
                let p = probs.map { $0 + pair * T * T } ?? scores
                let pStride = probs == nil ? S : T
                gemm(transA: false, transB: true, m: T, n: L, k: D, alpha: scale, a: q, lda: 3 * C,
                     b: k, ldb: 3 * C, beta: 0, c: scores, ldc: S)
                for i in 0..<T {
                    let row = p + i * pStride
                    if hasInteriorPadding {
                        softmaxRow(out: row, inp: scores + i * S, bias: bias, cols: L)
                    } else {
                        softmaxRow(out: row, inp: scores + i * S, cols: L)
                    }
                    if L < T && probs != nil { (row + L).update(repeating: 0, count: T - L) }
                    if let dropout {
                        dropoutRange(out: dropped + i * T, inp: row, accumulateInto: nil, range: 0..<L,
                                     dropout: dropout, startIndex: pair * T * T + i * T)
                    }
                }
                attentionHeadProduct(m: T, n: D, k: L, alpha: 1,
                                     a: dropout == nil ? UnsafePointer(p) : UnsafePointer(dropped),
                                     lda: dropout == nil ? pStride : T, b: v, ldb: 3 * C, accumulate: false,
                                     c: out + outOffset, ldc: C, scratch: productScratch)
            }
        }
    }
}

/// `row[j] += extra[j]` for j < count (the extra score gradient of `attentionBackward`).
@inline(__always)
func addRow(_ row: FloatBuffer, _ extra: ConstFloatBuffer, count: Int) {
    var j = 0
    while j + 16 <= count {
        store16(row + j, load16(row + j) + load16(extra + j))
        j += 16
    }
    while j < count { row[j] += extra[j]; j += 1 }
}

/// Row stride of the score blocks in scratch memory: the sequence length plus 16 floats (see
/// `attentionForward`).
@inline(__always)
func scoreStride(_ seqLen: Int) -> Int { seqLen + 16 }

/// Attention backward; accumulates into `dqkv` [batch, seqLen, 3·channels] (q | k | v per token).
/// Needs the forward's `probs` and the same `dropout` (its mask is recomputed).
/// - Parameters:
///   - dout: [batch, seqLen, channels].
///   - dScores: an extra gradient of the loss with respect to the scores (the softmax input, after the
///     1/√d scaling) [batch, heads, seqLen, seqLen], added to what flows back through the softmax: how a
///     loss on the attention distribution itself (intermediate-layer distillation) enters. It must be 0 at
///     padding keys (they have probability 0; the kernel may skip them); nil = none.
///   - the rest as in `attentionForward`.
public func attentionBackward(dqkv: FloatBuffer, dout: ConstFloatBuffer, qkv: ConstFloatBuffer, probs: ConstFloatBuffer,
                              keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                              dropout: Dropout?, dScores: ConstFloatBuffer? = nil) {
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "attentionBackward" + (dropout == nil ? "" : " (dropout)"),
                           flops: 8 * Double(batch * seqLen * seqLen * channels))
    }
    let plan = AttentionPlan(keyMask: keyMask, batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
    defer { plan.deallocate() }
    let (T, C, D, S, scale) = (plan.T, plan.C, plan.D, plan.S, plan.scale)
    // Per chunk: dWeights [T, S] (gradient of the post-dropout probabilities, then of the scores)
    // and, with dropout, the dropped probabilities [T, S]; S ≠ T as in the forward. Last, the
    // scratch of `attentionHeadProduct`.
    let scratchPerChunk = (dropout == nil ? 1 : 2) * T * S + attentionHeadScratch(seqLen: T)
    let scratch = plan.scratch(perChunk: scratchPerChunk)
    defer { scratch.deallocate() }
    BLAS.singleThreaded {
        parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
            let dWeights = scratch + chunk * scratchPerChunk
            let productScratch = dWeights + scratchPerChunk - attentionHeadScratch(seqLen: T)
            for pair in pairRange {
                let (_, L, qOffset, outOffset) = plan.head(pair)
                let q = qkv + qOffset
                let k = q + C, v = q + 2 * C
                let dq = dqkv + qOffset
                let dk = dq + C, dv = dq + 2 * C
                let g = dout + outOffset
                let p = probs + pair * T * T
                // dWeights = dout · vᵀ, then back through dropout (the mask hashed once for both the
                // dropped probabilities and this gradient) and the softmax, row by row in place.
                gemm(transA: false, transB: true, m: T, n: L, k: D, alpha: 1, a: g, lda: C,
                     b: v, ldb: 3 * C, beta: 0, c: dWeights, ldc: S)
                let dropped = dWeights + T * S
                for i in 0..<T {
                    let row = dWeights + i * S
                    if let dropout {
                        dropoutRowPair(dropped: dropped + i * S, probs: p + i * T, gradient: row, count: L,
                                       dropout: dropout, startIndex: pair * T * T + i * T)
                    }
                    softmaxBackwardRow(dinp: row, dout: row, probs: p + i * T, cols: L, accumulate: false)
                    if let dScores { addRow(row, dScores + pair * T * T + i * T, count: L) }
                }
                // dv += weightsᵀ · dout (only the L attended keys get gradient)
                if dropout == nil {
                    gemm(transA: true, transB: false, m: L, n: D, k: T, alpha: 1, a: p, lda: T,
                         b: g, ldb: C, beta: 1, c: dv, ldc: 3 * C)
                } else {
                    gemm(transA: true, transB: false, m: L, n: D, k: T, alpha: 1, a: dropped, lda: S,
                         b: g, ldb: C, beta: 1, c: dv, ldc: 3 * C)
                }
                // dq += scale · dScores · k ; dk += scale · dScoresᵀ · q
                attentionHeadProduct(m: T, n: D, k: L, alpha: scale, a: dWeights, lda: S, b: k, ldb: 3 * C,
                                     accumulate: true, c: dq, ldc: 3 * C, scratch: productScratch)
                gemm(transA: true, transB: false, m: L, n: D, k: T, alpha: scale, a: dWeights, lda: S,
                     b: q, ldb: 3 * C, beta: 1, c: dk, ldc: 3 * C)
            }
        }
    }
}

/// The key padding mask prepared for the kernels: an additive bias row per sequence, and how many
/// leading keys need computing (all of them unless the padding is a suffix).
struct AttentionMask: @unchecked Sendable {
    /// [batch, seqLen]: 0 for real keys, `attentionMaskValue` for padding.
    let bias: FloatBuffer
    /// Per sequence: the number of leading keys that can get non-zero probability.
    let keys: [Int]
    /// Per sequence: whether masked keys remain among the first `keys[b]` (the bias must be added).
    let hasInteriorPadding: [Bool]

    init(keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int) {
        bias = FloatBuffer.allocate(capacity: max(1, batch * seqLen))
        var keys: [Int] = [], interior: [Bool] = []
        for b in 0..<batch {
            let mask = keyMask + b * seqLen
            var lastReal = -1
            for t in 0..<seqLen {
                bias[b * seqLen + t] = mask[t] == 0 ? attentionMaskValue : 0
                if mask[t] != 0 { lastReal = t }
            }
            // No real key at all: every key gets the same score, the softmax is uniform over all.
            let count = lastReal < 0 ? seqLen : lastReal + 1
            keys.append(count)
            interior.append((0..<count).contains { mask[$0] == 0 })
        }
        self.keys = keys
        hasInteriorPadding = interior
    }

    func deallocate() { bias.deallocate() }
}

/// One attention call's sizes, key layout and per-worker scratch, shared by the fp32 and bf16 kernels:
/// T tokens, C channels, D = C / heads per head, S the score row stride, one (sequence, head) pair per
/// unit of work split into `chunks`.
struct AttentionPlan {
    let T, C, D, heads, pairs, S, chunks: Int
    let scale: Float
    let mask: AttentionMask

    init(keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int, dropout: Dropout?) {
        checkAttentionShape(batch: batch, seqLen: seqLen, channels: channels, heads: heads, dropout: dropout)
        (T, C, D, self.heads, pairs) = (seqLen, channels, channels / heads, heads, batch * heads)
        S = scoreStride(seqLen)
        scale = 1 / Float(D).squareRoot()
        chunks = parallelChunkCount(count: pairs, minimumWork: 2)
        mask = AttentionMask(keyMask: keyMask, batch: batch, seqLen: seqLen)
    }

    /// For (sequence, head) `pair`: the sequence, how many leading keys it attends to, the offset of the
    /// head's q in a [batch, T, 3C] tensor (k and v follow at + C, + 2C), and of its slice of a [batch, T, C] one.
    @inline(__always)
    func head(_ pair: Int) -> (sequence: Int, keys: Int, qkv: Int, out: Int) {
        let b = pair / heads, h = pair % heads
        return (b, mask.keys[b], b * T * 3 * C + h * D, b * T * C + h * D)
    }

    /// `floats` floats of scratch for each chunk, one allocation for the call (the caller frees it).
    func scratch(perChunk floats: Int) -> FloatBuffer { .allocate(capacity: max(1, chunks * floats)) }

    func deallocate() { mask.deallocate() }
}

/// The shape checks of `attentionForward` and `attentionBackward`: whole heads, and dropout mask
/// indices that fit the dropout hash's 32-bit index.
private func checkAttentionShape(batch: Int, seqLen: Int, channels: Int, heads: Int, dropout: Dropout?) {
    precondition(channels % heads == 0, "attention: channels \(channels) not divisible by heads \(heads)")
    precondition(dropout == nil || batch * heads * seqLen * seqLen <= 1 << 32,
                 "attention dropout: \(batch * heads * seqLen * seqLen) mask indices exceed 2^32")
}
