import Kernels

/// Pointers to the embedding tables (of the weights or of their gradients).
struct EmbeddingWeights {
    let word, position, tokenType, normWeight, normBias: FloatBuffer

    init(_ base: FloatBuffer, _ offsets: EmbeddingOffsets) {
        word = base + offsets.word
        position = base + offsets.position
        tokenType = base + offsets.tokenType
        normWeight = base + offsets.normWeight
        normBias = base + offsets.normBias
    }
}

/// BERT embeddings: `dropout(LayerNorm(word[id] + position[t] + tokenType[type]))`.
/// - Parameters: ids, types, positions [N]; sum, out [N, C]; mean, rstd [N].
func embeddingsForward(out: FloatBuffer, sum: FloatBuffer, mean: FloatBuffer, rstd: FloatBuffer,
                       ids: UnsafePointer<Int32>, types: UnsafePointer<Int32>, positions: UnsafePointer<Int32>,
                       weights w: EmbeddingWeights, tokens N: Int, channels C: Int, eps: Float, dropout: Dropout?) {
    for i in 0..<N {
        let word = w.word + Int(ids[i]) * C
        let position = w.position + Int(positions[i]) * C
        let type = w.tokenType + Int(types[i]) * C
        let row = sum + i * C
        for c in 0..<C { row[c] = word[c] + position[c] + type[c] }
    }
    layerNormForward(out: out, mean: mean, rstd: rstd, inp: sum, weight: w.normWeight, bias: w.normBias,
                     rows: N, channels: C, eps: eps)
    if let dropout { dropoutForward(out: out, inp: out, count: N * C, dropout: dropout) }
}

/// Backward of `embeddingsForward`: accumulates into the three tables and the LayerNorm parameters.
/// `dout` [N, C] is consumed (used as scratch); `dsum` [N, C] is scratch.
func embeddingsBackward(grads g: EmbeddingWeights, dout: FloatBuffer, dsum: FloatBuffer,
                        sum: ConstFloatBuffer, mean: ConstFloatBuffer, rstd: ConstFloatBuffer, normWeight: ConstFloatBuffer,
                        ids: UnsafePointer<Int32>, types: UnsafePointer<Int32>, positions: UnsafePointer<Int32>,
                        tokens N: Int, channels C: Int, dropout: Dropout?, scratch: FloatBuffer) {
    var dnorm = UnsafePointer(dout)
    if let dropout {
        scratch.update(repeating: 0, count: N * C)
        dropoutBackward(dinp: scratch, dout: dout, count: N * C, dropout: dropout)
        dnorm = UnsafePointer(scratch)
    }
    dsum.update(repeating: 0, count: N * C)
    layerNormBackward(dinp: dsum, dweight: g.normWeight, dbias: g.normBias, dout: dnorm, inp: sum,
                      weight: normWeight, mean: mean, rstd: rstd, rows: N, channels: C)
    embeddingBackward(dtable: g.word, ids: ids, dout: dsum, count: N, channels: C)
    embeddingBackward(dtable: g.position, ids: positions, dout: dsum, count: N, channels: C)
    embeddingBackward(dtable: g.tokenType, ids: types, dout: dsum, count: N, channels: C)
}
