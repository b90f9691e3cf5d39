// Plain-loop twins of attention, dropout, residual add and embeddings: the test reference.

/// Reference twin of `dropoutForward` (scalar `Dropout.keeps`, the definition of the mask).
public func naiveDropoutForward(out: FloatBuffer, inp: ConstFloatBuffer, count: Int, dropout: Dropout, startIndex: Int = 0) {
    for i in 0..<count { out[i] = dropout.keeps(startIndex + i) ? inp[i] * dropout.keepScale : 0 }
}

/// Reference twin of `dropoutBackward`.
public func naiveDropoutBackward(dinp: FloatBuffer, dout: ConstFloatBuffer, count: Int, dropout: Dropout, startIndex: Int = 0) {
    for i in 0..<count where dropout.keeps(startIndex + i) { dinp[i] += dout[i] * dropout.keepScale }
}

/// Reference twin of `attentionForward`.
public func naiveAttentionForward(out: FloatBuffer, probs savedProbs: FloatBuffer?, qkv: ConstFloatBuffer,
                                  keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                                  dropout: Dropout?) {
    let T = seqLen, C = channels, D = channels / heads
    let probs = savedProbs ?? FloatBuffer.allocate(capacity: batch * heads * T * T)
    defer { if savedProbs == nil { probs.deallocate() } }
    let scale = 1 / Double(D).squareRoot()
    for b in 0..<batch {
        for h in 0..<heads {
            let pair = b * heads + h
            let p = probs + pair * T * T
            for i in 0..<T {
                for j in 0..<T {
                    var dot: Double = 0
                    for d in 0..<D {
                        dot += Double(qkv[(b * T + i) * 3 * C + h * D + d]) * Double(qkv[(b * T + j) * 3 * C + C + h * D + d])
                    }
                    p[i * T + j] = Float(dot * scale) + (keyMask[b * T + j] == 0 ? attentionMaskValue : 0)
                }
            }
            naiveSoftmaxForward(out: p, inp: p, rows: T, cols: T)
            for i in 0..<T {
                for d in 0..<D {
                    var sum: Double = 0
                    for j in 0..<T {
                        let index = pair * T * T + i * T + j
                        let weight = dropout.map { $0.keeps(index) ? p[i * T + j] * $0.keepScale : 0 } ?? p[i * T + j]
                        sum += Double(weight) * Double(qkv[(b * T + j) * 3 * C + 2 * C + h * D + d])
                    }
                    out[(b * T + i) * C + h * D + d] = Float(sum)
                }
            }
        }
    }
}

/// Reference twin of `attentionBackward`.
public func naiveAttentionBackward(dqkv: FloatBuffer, dout: ConstFloatBuffer, qkv: ConstFloatBuffer, probs: ConstFloatBuffer,
                                   keyMask: UnsafePointer<Int32>, batch: Int, seqLen: Int, channels: Int, heads: Int,
                                   dropout: Dropout?, dScores extra: ConstFloatBuffer? = nil) {
    let T = seqLen, C = channels, D = channels / heads
    let scale = 1 / Double(D).squareRoot()
    let q = { (b: Int, t: Int, h: Int, d: Int) in (b * T + t) * 3 * C + h * D + d }
    for b in 0..<batch {
        for h in 0..<heads {
            let pair = b * heads + h
            for i in 0..<T {
                // dWeights[j] = dout_i · v_j; weights = dropout(probs)
                var dScores = [Double](repeating: 0, count: T)
                var dot: Double = 0
                for j in 0..<T {
                    let index = pair * T * T + i * T + j
                    let keep: Double = dropout.map { $0.keeps(index) ? Double($0.keepScale) : 0 } ?? 1
                    let p = Double(probs[index])
                    var dWeight: Double = 0
                    for d in 0..<D {
                        let g = Double(dout[(b * T + i) * C + h * D + d])
                        dWeight += g * Double(qkv[q(b, j, h, d) + 2 * C])
                        dqkv[q(b, j, h, d) + 2 * C] += Float(p * keep * g)
                    }
                    dScores[j] = dWeight * keep
                    dot += dScores[j] * p
                }
                for j in 0..<T {
                    let added = keyMask[b * T + j] == 0 ? 0 : extra.map { Double($0[pair * T * T + i * T + j]) } ?? 0
                    let ds = (Double(probs[pair * T * T + i * T + j]) * (dScores[j] - dot) + added) * scale
                    for d in 0..<D {
                        dqkv[q(b, i, h, d)] += Float(ds * Double(qkv[q(b, j, h, d) + C]))
                        dqkv[q(b, j, h, d) + C] += Float(ds * Double(qkv[q(b, i, h, d)]))
                    }
                }
            }
        }
    }
}

/// Reference twin of `addForward`.
public func naiveAddForward(out: FloatBuffer, a: ConstFloatBuffer, b: ConstFloatBuffer, count: Int) {
    for i in 0..<count { out[i] = a[i] + b[i] }
}

/// Reference twin of `addBackward`.
public func naiveAddBackward(da: FloatBuffer?, db: FloatBuffer?, dout: ConstFloatBuffer, count: Int) {
    for i in 0..<count {
        da?[i] += dout[i]
        db?[i] += dout[i]
    }
}

/// Reference twin of `embeddingForward`.
public func naiveEmbeddingForward(out: FloatBuffer, ids: UnsafePointer<Int32>, table: ConstFloatBuffer, count: Int, channels: Int) {
    for i in 0..<count {
        for c in 0..<channels { out[i * channels + c] = table[Int(ids[i]) * channels + c] }
    }
}

/// Reference twin of `embeddingBackward`.
public func naiveEmbeddingBackward(dtable: FloatBuffer, ids: UnsafePointer<Int32>, dout: ConstFloatBuffer, count: Int, channels: Int) {
    for i in 0..<count {
        for c in 0..<channels { dtable[Int(ids[i]) * channels + c] += dout[i * channels + c] }
    }
}
