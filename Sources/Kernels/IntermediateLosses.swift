/// The loss kernels of intermediate-layer distillation: a student's hidden states against a teacher's
/// (squared error over real tokens) and its attention distributions against the teacher's (KL divergence
/// over real queries and keys). Each returns the summed loss and writes its gradient; the caller divides
/// by what it averages over. Naive twins: `naiveMaskedSquaredError`, `naiveAttentionKLDivergence`.

/// Σ over real tokens (`tokenMask[t] != 0`) of Σ_c (student − teacher)², both [tokens, channels]; writes
/// `gradientScale · 2 (student − teacher)` into `dStudent` at real tokens and 0 at padding. `dStudent`
/// may be `teacher` itself (each element is read before it is written).
public func maskedSquaredError(student: ConstFloatBuffer, teacher: ConstFloatBuffer, dStudent: FloatBuffer,
                               tokenMask: UnsafePointer<Int32>, tokens: Int, channels C: Int, gradientScale: Float) -> Double {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "maskedSquaredError", flops: 4 * Double(tokens * C)) }
    var partial = [Double](repeating: 0, count: max(1, parallelChunkCount(count: tokens, minimumWork: 64)))
    partial.withUnsafeMutableBufferPointer { sums in
        let sums = SendablePointer(sums.baseAddress!)
        parallelChunks(count: tokens, minimumWork: 64) { chunk, range in
            var total: Double = 0
            let twice = 2 * gradientScale
            for t in range {
                let s = student + t * C, q = teacher + t * C, d = dStudent + t * C
                guard tokenMask[t] != 0 else { d.update(repeating: 0, count: C); continue }
                var sum = Vec16(), c = 0
                while c + 16 <= C {
                    let diff = load16(s + c) - load16(q + c)
                    sum += diff * diff
                    store16(d + c, diff * twice)
                    c += 16
                }
                var row = Double(sum.sum())
                while c < C {
                    let diff = s[c] - q[c]
                    row += Double(diff * diff)
                    d[c] = diff * twice
                    c += 1
                }
                total += row
            }
            sums.pointer[chunk] = total
        }
    }
    return partial.reduce(0, +)
}

/// Σ over every (sequence b, head h) and real query row i of KL(teacher ‖ student) = Σ_j t log(t / s) over
/// the real keys j, for attention distributions [batch, heads, seqLen, seqLen] (softmax outputs, 0 at
/// padding keys). Writes `gradientScale · (student − teacher)` into `dScores`: the gradient of
/// `gradientScale ×` the sum with respect to the student's attention scores (its softmax input), exact
/// because each teacher row sums to 1 over the real keys; 0 at padding queries and keys. A student
/// probability that underflowed to 0 counts as the smallest normal float in the log (the gradient needs
/// no log). `dScores` may be `teacher` itself.
public func attentionKLDivergence(student: ConstFloatBuffer, teacher: ConstFloatBuffer, dScores: FloatBuffer,
                                  keyMask: UnsafePointer<Int32>, batch: Int, heads: Int, seqLen T: Int,
                                  gradientScale: Float) -> Double {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "attentionKLDivergence", flops: 8 * Double(batch * heads * T * T)) }
    // Per sequence: 1/0 per key, and how many leading keys can be real.
    let keyWeights = FloatBuffer.allocate(capacity: max(1, batch * T))
    defer { keyWeights.deallocate() }
    var keys = [Int](repeating: 0, count: batch)
    for b in 0..<batch {
        for t in 0..<T { keyWeights[b * T + t] = keyMask[b * T + t] != 0 ? 1 : 0 }
        keys[b] = ((0..<T).last { keyMask[b * T + $0] != 0 } ?? -1) + 1
    }
    let pairs = batch * heads
    var partial = [Double](repeating: 0, count: max(1, parallelChunkCount(count: pairs, minimumWork: 1)))
    partial.withUnsafeMutableBufferPointer { sums in
        let sums = SendablePointer(sums.baseAddress!)
        keys.withUnsafeBufferPointer { keys in
            parallelChunks(count: pairs, minimumWork: 1) { chunk, range in
                var total: Double = 0
                for pair in range {
                    let b = pair / heads, L = keys[b]
                    let weights = UnsafePointer(keyWeights + b * T)
                    for i in 0..<T {
                        let offset = (pair * T + i) * T
                        let s = student + offset, q = teacher + offset, d = dScores + offset
                        guard keyMask[b * T + i] != 0 else { d.update(repeating: 0, count: T); continue }
                        var sum = Vec16(), j = 0
                        while j < L {
                            let n = min(16, L - j)
                            let sv = n == 16 ? load16(s + j) : loadPartial(s + j, count: n, fill: 0)
                            let qv = n == 16 ? load16(q + j) : loadPartial(q + j, count: n, fill: 0)
                            let w = n == 16 ? load16(weights + j) : loadPartial(weights + j, count: n, fill: 0)
                            sum += w * qv * (vlog(qv) - vlog(sv))
                            let g = w * (sv - qv) * gradientScale
                            if n == 16 { store16(d + j, g) } else { storePartial(d + j, g, count: n) }
                            j += n
                        }
                        if L < T { (d + L).update(repeating: 0, count: T - L) }
                        total += Double(sum.sum())
                    }
                }
                sums.pointer[chunk] = total
            }
        }
    }
    return partial.reduce(0, +)
}
